import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GuestImageSpec } from '../config/types.js';

/** What the guest image can do, from the manifest the image build writes beside the kernel. */
export interface GuestImageFacts {
  readonly kernelRelease: string | null;
  /** Kernel modules the image lacks (e.g. the cloud kernel has no e1000e or igb). */
  readonly modulesMissing: readonly string[];
}

/** Guest drivers per emulated NIC model. */
export const NIC_GUEST_DRIVER: Readonly<Record<string, string>> = { 'virtio-net-pci': 'virtio_net', e1000e: 'e1000e', igb: 'igb' };

export function readGuestImageFacts(guest: GuestImageSpec): GuestImageFacts {
  const manifest = guest.kernel === undefined ? undefined : join(dirname(guest.kernel), 'guest-image.json');
  if (manifest === undefined || !existsSync(manifest)) return { kernelRelease: null, modulesMissing: [] };
  const data = JSON.parse(readFileSync(manifest, 'utf8')) as { kernelRelease?: string; modulesMissing?: string[] };
  return { kernelRelease: data.kernelRelease ?? null, modulesMissing: data.modulesMissing ?? [] };
}
