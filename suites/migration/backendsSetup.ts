import type { Capability } from '../../harness/host/capabilities.js';
import type { VfioBackend, VfioMigrationOptions, VmNic } from '../../harness/qemu/VmSpec.js';
import type { LabSession } from '../../harness/session/LabSession.js';
import { findDevicePair, requireDevicePair, vfioVmNic, type AssignableDevice, type DeviceLookupOptions, type DeviceNeed } from '../../harness/session/assignableDevices.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';

/** A way VFIO migration can be admitted and tracked (brief §7 B variants). */
export interface TrackerVariant {
  readonly id: 'i' | 'ii' | 'iii' | 'iv';
  readonly title: string;
  readonly need: DeviceNeed;
  readonly lookup?: DeviceLookupOptions;
  readonly backend: VfioBackend;
  readonly migration: VfioMigrationOptions;
  readonly capabilities: readonly Capability[];
}

export const TRACKER_VARIANTS: readonly TrackerVariant[] = [
  { id: 'i', title: 'device dirty tracking, legacy container', need: 'migratable-with-device-dirty-tracking', backend: 'legacy', migration: { migrationEvents: true }, capabilities: ['vfio', 'vfio-migration-events'] },
  { id: 'ii', title: 'device dirty tracking, IOMMUFD', need: 'migratable-with-device-dirty-tracking', backend: 'iommufd', migration: { migrationEvents: true }, capabilities: ['vfio', 'iommufd', 'vfio-migration-events'] },
  { id: 'iii', title: 'IOMMUFD with IOMMU (HW) dirty tracking', need: 'migratable-without-device-dirty-tracking', lookup: { kinds: ['vf'] }, backend: 'iommufd', migration: { migrationEvents: true }, capabilities: ['vfio', 'iommufd', 'iommu-dirty-tracking', 'vfio-migration-events'] },
  { id: 'iv', title: 'legacy container forced with enable-migration=on ("perpetual" type1 dirty tracking)', need: 'migratable-without-device-dirty-tracking', backend: 'legacy', migration: { enableMigration: 'on', migrationEvents: true }, capabilities: ['vfio', 'vfio-migration-events'] },
];

/** The QEMU device id of the VFIO device in every VFIO scenario: VFIO_MIGRATION events name it. */
export const VFIO_DEVICE_ID = 'vf0';

export interface VfioPairSetup {
  readonly devices: { readonly source: AssignableDevice; readonly destination: AssignableDevice };
  readonly sourceNics: readonly VmNic[];
  readonly destinationNics: readonly VmNic[];
}

/** The lab's emulated NICs of a host (the guest's network, when the lab gives it one), then the VFIO device. */
function nicsWith(lab: LabSession, host: string, device: VmNic): VmNic[] {
  const emulated = lab.host(host).nics.flatMap((n): VmNic[] => (n.kind === 'emulated' ? [{ kind: 'emulated', id: n.name, model: n.model, tap: n.tap, mac: n.mac }] : []));
  return [...emulated, device];
}

/** Skips without the variant's capabilities or a ready device; otherwise the NICs of both ends. */
export async function requireVfioSetup(context: Mocha.Context, variant: Pick<TrackerVariant, 'need' | 'lookup' | 'backend' | 'migration' | 'capabilities'>): Promise<VfioPairSetup> {
  requireCapabilities(context, variant.capabilities);
  const devices = await requireDevicePair(context, variant.need, variant.lookup);
  const lab = context.lab;
  const nic = (device: AssignableDevice) => vfioVmNic(device, { id: VFIO_DEVICE_ID, backend: variant.backend, migration: variant.migration });
  Object.assign(context.scope.labels, { backend: variant.backend, device: `${devices.source.kind} ${devices.source.nic.name}` });
  return {
    devices,
    sourceNics: nicsWith(lab, lab.pair.source, nic(devices.source)),
    destinationNics: nicsWith(lab, lab.pair.destination, nic(devices.destination)),
  };
}

/**
 * The first tracker variant this lab can run, for suites that need "a VFIO device that migrates"
 * rather than a particular tracker (failure with VFIO, mixed backends): (i) if there is a device
 * with DMA logging, else (iv) forced legacy. Skips naming what each lacked.
 */
export async function requireMigratableVfioSetup(context: Mocha.Context): Promise<{ readonly variant: TrackerVariant; readonly setup: VfioPairSetup }> {
  const reasons: string[] = [];
  for (const variant of TRACKER_VARIANTS.filter((v) => v.id === 'i' || v.id === 'iv')) {
    const missing = context.lab.missingCapabilities(variant.capabilities);
    if (missing !== null) {
      reasons.push(`B(${variant.id}): ${missing}`);
      continue;
    }
    const lookup = await findDevicePair(context.lab, variant.need, variant.lookup);
    if (!lookup.isFound) {
      reasons.push(`B(${variant.id}): ${lookup.reason}`);
      continue;
    }
    return { variant, setup: await requireVfioSetup(context, variant) };
  }
  context.test!.hilSkipReason = reasons.join(' | ');
  context.skip();
  throw new Error('unreachable: mocha skip throws');
}
