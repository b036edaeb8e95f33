import type { GuestImageSpec } from '../../harness/config/types.js';
import type { GuestConsole } from '../../harness/console/GuestConsole.js';
import { bindGuestVfioPci, type GuestVfioBinding } from '../../harness/guest/bindGuestVfioPci.js';
import { cycleDefaultDomain, domainCycleLine, domainCycleOutcome } from '../../harness/guest/cycleDefaultDomain.js';
import type { DomainSwitchLoop } from '../../harness/guest/DomainSwitchOutcome.js';
import { findGuestPciFunction } from '../../harness/guest/guestPciFunctions.js';
import { runVfioLoop, vfioLoopCommand, vfioLoopOutcome, vfioLoopTimeoutMs } from '../../harness/guest/runVfioLoop.js';
import { HarnessError } from '../../harness/errors.js';

/** Upstream references of scenario C (brief §1.3): patch 7 as posted and as merged, and its companion. */
export const BLOCKED_DOMAIN_REFERENCES: readonly string[] = [
  'lore <20251029095354.56305-8-zhenzhong.duan@intel.com> [PATCH v4 07/10] intel_iommu: Fix unmap_bitmap failure with legacy VFIO backend',
  'lore <20260113093637.1549214-28-clg@redhat.com> [PULL 27/41] (merged as cac33cb5533a), Link: https://lore.kernel.org/qemu-devel/20251218062643.624796-7-zhenzhong.duan@intel.com',
  'lore <20260113093637.1549214-29-clg@redhat.com> [PULL 28/41] vfio/listener: Add missing dirty tracking in region_del (6e360c06176c)',
  'QEMU commit cac33cb5533a (intel_iommu fix), 6e360c06176c (listener), merge d03c3e522eb0 (pull-vfio-20260113, QEMU 11.0 cycle)',
];

/** Which default domain the guest gives its devices: DMA (patch-7 path) or identity (listener path, C3). */
export type GuestIommuMode = 'nopt' | 'pt';

/** The guest's kernel command line with its IOMMU on in the mode the scenario needs (brief §1.3). */
export function guestAppend(guest: GuestImageSpec, mode: GuestIommuMode): string {
  return `${guest.append ?? ''} intel_iommu=on iommu=${mode}`.trim();
}

/**
 * The device the guest claims through VFIO when the host has no VFIO: an emulated e1000e without
 * a network peer (it never needs to pass traffic, and needs no tap on the host), after the lab's
 * NIC, so the guest keeps its address and the probe stream. e1000e does its DMA through
 * the vIOMMU (pci_dma_*), unlike a virtio device without iommu_platform. The same arguments on
 * both ends give it the same PCI slot.
 */
export const DOMAIN_SWITCH_DEVICE_ARGS: readonly string[] = ['-device', 'e1000e,id=domsw0,mac=52:54:00:48:49:4c'];

/** vtd traces that show the guest's domain changes reaching the emulated VT-d (brief §4.2). */
export const VTD_TRACE_PATTERNS: readonly string[] = ['vtd_inv_desc_cc_*', 'vtd_switch_address_space', 'vtd_as_unmap_whole'];

/** What sysfs should show as the default domain for each mode (Debian's kernel default is lazy DMA). */
export function expectedDefaultDomains(mode: GuestIommuMode): readonly string[] {
  return mode === 'pt' ? ['identity'] : ['DMA', 'DMA-FQ'];
}

export type DomainSwitchWay = 'vfio-user-program' | 'sysfs-default-domain';

/** Finds the device in the guest, hands it to vfio-pci there, and checks one cycle works before migrating. */
export async function prepareGuestDevice(
  console: GuestConsole,
  ids: { readonly vendorId: string; readonly deviceId: string },
  what: string,
  way: DomainSwitchWay,
): Promise<GuestVfioBinding> {
  const fn = await findGuestPciFunction(console, ids, what);
  const binding = await bindGuestVfioPci(console, fn.bdf);
  const warmUp = way === 'vfio-user-program' ? await runVfioLoop(console, fn.bdf, { cycles: 1 }) : await cycleDefaultDomain(console, fn.bdf, { cycles: 1 });
  if (warmUp.failedCycles !== 0) {
    throw new HarnessError('GUEST_WARM_UP', `One ${way} cycle on ${fn.bdf} failed before any migration: ${warmUp.errors.join('; ')}`);
  }
  return binding;
}

/**
 * Types the guest's domain-switch loop now, while the guest is fast, and returns the loop for a
 * phase hook to start during pre-copy with one keystroke (GuestConsole.arm): a nested-lab guest in
 * pre-copy reads its console so slowly that a whole command line typed then was not read before
 * the source stopped, and the loop never ran.
 */
export async function armDomainSwitchLoop(console: GuestConsole, bdf: string, way: DomainSwitchWay, budget: { readonly cycles: number; readonly maxSeconds: number }): Promise<DomainSwitchLoop> {
  if (way === 'vfio-user-program') {
    const options = { cycles: budget.cycles, maxSeconds: budget.maxSeconds };
    const armed = await console.arm(vfioLoopCommand(bdf, options));
    return async () => vfioLoopOutcome(bdf, await armed.fire({ timeoutMs: vfioLoopTimeoutMs(options) }), console.where);
  }
  const armed = await console.arm(domainCycleLine(bdf, budget.cycles));
  return async () => domainCycleOutcome(bdf, await armed.fire({ timeoutMs: budget.maxSeconds * 1000 + 30_000 }), console.where);
}

/** "0000:00:03.0" → "00:03.0", as VT-d traces name a device. */
export function traceDeviceName(bdf: string): string {
  return bdf.replace(/^[0-9a-f]{4}:/i, '');
}
