import type { MdevNicSpec, NicSpec, VfNicSpec } from '../config/types.js';
import { deviceMigrationHint } from '../host/provisioning/migrationSupport.js';
import type { MdevVmNic, VfioBackend, VfioMigrationOptions, VfioVmNic } from '../qemu/VmSpec.js';
import type { LabSession } from './LabSession.js';

/** What kind of VFIO device a scenario needs (brief §2.3 decides admission by exactly these traits). */
export type DeviceNeed =
  /** Migration driver, no device DMA logging: QAT/virtio/xe VFs. A1–A4, B(iii)/(iv), C. */
  | 'migratable-without-device-dirty-tracking'
  /**
   * Counted by QEMU as device dirty tracking: mlx5/pds VFs, and mdevs. A5/A6, B(i)/(ii). QEMU 10.0
   * gives an mdev (mtty) no "doesn't support device and IOMMU dirty tracking" blocker with
   * enable-migration=auto on either backend (seen on the nested lab): its dirty scope is what the
   * vendor driver pins, so it is admitted like a device that logs its DMA.
   */
  | 'migratable-with-device-dirty-tracking'
  /** Any device with a migration driver, tracked or not (mixed backends). */
  | 'migratable'
  /** Plain vfio-pci: no migration driver (A8). */
  | 'without-migration'
  /** Any VFIO device (A7, A12). */
  | 'any';

/** A device ready for QEMU on one host: a VF bound to its VFIO driver, or an existing mdev. */
export interface AssignableDevice {
  readonly host: string;
  readonly nic: NicSpec;
  readonly kind: 'vf' | 'mdev';
  /** VF: host PCI address; mdev: UUID. */
  readonly address: string;
  /** As QEMU names the device in its messages (vbasedev->name): the BDF, or the mdev UUID. */
  readonly qemuName: string;
  /**
   * QEMU options the device needs to stand for the need it was found for: a device that logs
   * its own DMA (an mdev, an mlx5 VF) stands for one without device dirty tracking once
   * x-device-dirty-page-tracking=off — to QEMU's admission rules and its dirty tracking alike.
   */
  readonly neededMigration?: VfioMigrationOptions;
}

export type DevicePairLookup =
  | { readonly isFound: true; readonly source: AssignableDevice; readonly destination: AssignableDevice }
  | { readonly isFound: false; readonly reason: string };

/** Whether the NIC can serve the need: 'as-is', 'tracking-off' (switch its DMA logging off for it), or null. */
export function deviceFit(nic: NicSpec, need: DeviceNeed, hasMdevMigration: boolean, canSwitchTrackingOff: boolean): 'as-is' | 'tracking-off' | null {
  if (nic.kind === 'emulated') return null;
  const hasMigration = nic.kind === 'mdev' ? hasMdevMigration : deviceMigrationHint(nic.vfioDriver).hasMigration;
  const hasDeviceTracking = nic.kind === 'mdev' ? hasMdevMigration : deviceMigrationHint(nic.vfioDriver).hasDeviceDirtyTracking === true;
  switch (need) {
    case 'any': return 'as-is';
    case 'without-migration': return hasMigration ? null : 'as-is';
    case 'migratable': return hasMigration ? 'as-is' : null;
    case 'migratable-with-device-dirty-tracking': return hasMigration && hasDeviceTracking ? 'as-is' : null;
    case 'migratable-without-device-dirty-tracking': return !hasMigration ? null : !hasDeviceTracking ? 'as-is' : canSwitchTrackingOff ? 'tracking-off' : null;
  }
}

/**
 * The device made ready on the host by the run's provisioning (VFs created and the VF bound, or
 * the mdev created; journaled and undone at the end of the run). What the host lacks for it
 * (no SR-IOV, no mdev parent) is a reason to skip; a provisioning step that fails is an ERROR.
 */
async function readyDevice(session: LabSession, host: string, nic: VfNicSpec | MdevNicSpec): Promise<AssignableDevice | string> {
  const missing = session.missingCapabilities(nic.kind === 'vf' ? ['vfio', 'sriov'] : ['vfio', 'mdev']);
  if (missing !== null) return `${nic.name} (${nic.kind === 'vf' ? `VF of ${nic.pf}` : `mdev ${nic.parent} ${nic.type}`}) cannot be provisioned: ${missing}`;
  const device = await session.provisionDevice(host, nic);
  return device.kind === 'vf'
    ? { host, nic, kind: 'vf', address: device.vf.vf, qemuName: device.vf.vf }
    : { host, nic, kind: 'mdev', address: device.mdev.uuid, qemuName: device.mdev.uuid };
}

/** The first NIC of the lab file that fits the need and is ready on both hosts of the pair. */
export interface DeviceLookupOptions {
  /** NIC names not to use (a second device of the same need). */
  readonly exclude?: readonly string[];
  /** Only these kinds (e.g. IOMMU dirty tracking needs a real PCI function, not an mdev). */
  readonly kinds?: readonly ('vf' | 'mdev')[];
}

export async function findDevicePair(session: LabSession, need: DeviceNeed, options: DeviceLookupOptions = {}): Promise<DevicePairLookup> {
  const { source, destination } = session.pair;
  const hasMdevMigration = session.missingCapabilities(['mdev-migration']) === null;
  const canSwitchTrackingOff = [source, destination].every((host) => session.hostPreflight(host).facts?.qemu.vfioPciProperties.includes('x-device-dirty-page-tracking') === true);
  // Devices that are what the need says come before those that stand for it with DMA logging off.
  const candidates = session.host(source).nics
    .map((nic) => ({ nic, fit: deviceFit(nic, need, hasMdevMigration, canSwitchTrackingOff) }))
    .filter(({ nic, fit }) => fit !== null && !(options.exclude ?? []).includes(nic.name)
      && (options.kinds === undefined || (nic.kind !== 'emulated' && options.kinds.includes(nic.kind))))
    .sort((a, b) => Number(a.fit === 'tracking-off') - Number(b.fit === 'tracking-off'));
  const reasons: string[] = [];
  for (const { nic, fit } of candidates) {
    const peer = session.host(destination).nics.find((n) => n.name === nic.name && n.kind === nic.kind);
    if (peer === undefined || peer.kind === 'emulated' || nic.kind === 'emulated') {
      reasons.push(`${nic.name} is not on ${destination}`);
      continue;
    }
    const onSource = await readyDevice(session, source, nic);
    const onDestination = await readyDevice(session, destination, peer);
    if (typeof onSource === 'string' || typeof onDestination === 'string') {
      reasons.push(...[onSource, onDestination].filter((r): r is string => typeof r === 'string'));
      continue;
    }
    const needed = fit === 'tracking-off' ? { neededMigration: { deviceDirtyPageTracking: 'off' as const } } : {};
    return { isFound: true, source: { ...onSource, ...needed }, destination: { ...onDestination, ...needed } };
  }
  const kinds = options.kinds === undefined ? '' : ` of kind ${options.kinds.join('/')}`;
  const other = (options.exclude ?? []).length > 0 ? ` other than ${(options.exclude ?? []).join(', ')}` : '';
  const none = candidates.length === 0 ? `no NIC${kinds}${other} of ${source} in ${session.lab.file} is a ${need} device (${describeNeed(need)})` : reasons.join('; ');
  return { isFound: false, reason: `missing capability: ${need} VFIO device: ${none}` };
}

function describeNeed(need: DeviceNeed): string {
  switch (need) {
    case 'migratable-without-device-dirty-tracking': return 'a VF with qat_vfio_pci, virtio_vfio_pci or xe_vfio_pci, or a device with DMA logging switched off (x-device-dirty-page-tracking=off)';
    case 'migratable-with-device-dirty-tracking': return 'a VF with mlx5_vfio_pci or pds_vfio_pci, or a migration-capable mdev such as mtty (capability mdev-migration)';
    case 'migratable': return 'a VF with a migration variant driver, or a migration-capable mdev such as mtty';
    case 'without-migration': return 'a VF bound to plain vfio-pci';
    case 'any': return 'any VF or mdev';
  }
}

/**
 * Whether QEMU should give this device the "doesn't support device and IOMMU dirty tracking"
 * blocker with enable-migration=auto (brief §2.3 rule 3): no device dirty tracking (an mdev
 * counts as tracked, see DeviceNeed) and no IOMMU dirty tracking (IOMMUFD on a host IOMMU that
 * has it, for a real PCI function; never the legacy backend, brief §1.4).
 */
export function expectsNoTrackerBlocker(session: LabSession, device: AssignableDevice, backend: VfioBackend): boolean {
  const hasDeviceTracking = device.neededMigration?.deviceDirtyPageTracking !== 'off'
    && (device.nic.kind === 'mdev' || (device.nic.kind === 'vf' && deviceMigrationHint(device.nic.vfioDriver).hasDeviceDirtyTracking === true));
  if (hasDeviceTracking) return false;
  const hasIommuTracking = backend === 'iommufd' && device.kind === 'vf' && session.missingCapabilities(['iommu-dirty-tracking']) === null;
  return !hasIommuTracking;
}

/** The VmNic QEMU gets for a device, with the backend and migration knobs of the scenario. */
export function vfioVmNic(device: AssignableDevice, options: { readonly id: string; readonly backend: VfioBackend; readonly migration?: VfioMigrationOptions }): VfioVmNic | MdevVmNic {
  // The scenario's own knobs win over what the device needs to stand for it.
  const merged = { ...device.neededMigration, ...options.migration };
  const migration = Object.keys(merged).length > 0 ? { migration: merged } : {};
  return device.kind === 'vf'
    ? { kind: 'vfio', id: options.id, host: device.address, backend: options.backend, ...migration }
    : { kind: 'mdev', id: options.id, uuid: device.address, backend: options.backend, ...migration };
}

/** In a mocha test: the device pair, or the test is skipped with the reason. */
export async function requireDevicePair(context: Mocha.Context, need: DeviceNeed, options: DeviceLookupOptions = {}): Promise<{ source: AssignableDevice; destination: AssignableDevice }> {
  const lookup = await findDevicePair(context.lab, need, options);
  if (!lookup.isFound) {
    if (context.test !== undefined) context.test.hilSkipReason = lookup.reason;
    context.skip();
  }
  return lookup as { source: AssignableDevice; destination: AssignableDevice };
}
