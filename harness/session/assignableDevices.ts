import type { MdevNicSpec, NicSpec, VfNicSpec } from '../config/types.js';
import { deviceMigrationHint } from '../host/provisioning/migrationSupport.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
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
}

export type DevicePairLookup =
  | { readonly isFound: true; readonly source: AssignableDevice; readonly destination: AssignableDevice }
  | { readonly isFound: false; readonly reason: string };

function fits(nic: NicSpec, need: DeviceNeed, hasMdevMigration: boolean): boolean {
  if (nic.kind === 'emulated') return false;
  if (nic.kind === 'mdev') return need === 'any' || ((need === 'migratable-with-device-dirty-tracking' || need === 'migratable') && hasMdevMigration);
  const hint = deviceMigrationHint(nic.vfioDriver);
  switch (need) {
    case 'any': return true;
    case 'without-migration': return !hint.hasMigration;
    case 'migratable': return hint.hasMigration;
    case 'migratable-with-device-dirty-tracking': return hint.hasMigration && hint.hasDeviceDirtyTracking === true;
    case 'migratable-without-device-dirty-tracking': return hint.hasMigration && hint.hasDeviceDirtyTracking === false;
  }
}

/**
 * Looks (read-only) for the device on the host: a VF must already be bound to the lab file's
 * vfioDriver — binding it is provisioning's job (harness/host/provisioning), done and journaled
 * before a run — and an mdev must already exist. Returns why not, otherwise.
 */
async function readyDevice(runner: CommandRunner, host: string, nic: VfNicSpec | MdevNicSpec): Promise<AssignableDevice | string> {
  if (nic.kind === 'mdev') {
    const result = await runner.run(sh`[ -e /sys/bus/mdev/devices/${nic.uuid} ] && echo present || echo absent`);
    return result.stdout.includes('present') ? { host, nic, kind: 'mdev', address: nic.uuid, qemuName: nic.uuid }
      : `mdev ${nic.uuid} (${nic.parent} ${nic.type}) of ${nic.name} does not exist on ${host}: create it first (provisioning)`;
  }
  const link = `/sys/bus/pci/devices/${nic.pf}/virtfn${nic.vfIndex}`;
  const result = await runner.run(sh`v=$(readlink ${link}) || exit 3; v=\${v##*/}; d=-; [ -e /sys/bus/pci/devices/$v/driver ] && d=$(basename $(readlink /sys/bus/pci/devices/$v/driver)); echo "vf $v $d"`);
  const match = /^vf (\S+) (\S+)$/m.exec(result.stdout);
  if (result.exitCode !== 0 || match === null) return `VF ${nic.vfIndex} of PF ${nic.pf} (${nic.name}) does not exist on ${host}: create the VFs first (provisioning)`;
  const [, bdf, driver] = match;
  if (driver !== nic.vfioDriver) return `VF ${bdf} (${nic.name}) on ${host} is bound to ${driver === '-' ? 'no driver' : driver}, not ${nic.vfioDriver}: bind it first (provisioning)`;
  return { host, nic, kind: 'vf', address: bdf!, qemuName: bdf! };
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
  const candidates = session.host(source).nics.filter((nic) => fits(nic, need, hasMdevMigration) && !(options.exclude ?? []).includes(nic.name)
    && (options.kinds === undefined || (nic.kind !== 'emulated' && options.kinds.includes(nic.kind))));
  const reasons: string[] = [];
  for (const nic of candidates) {
    const peer = session.host(destination).nics.find((n) => n.name === nic.name && n.kind === nic.kind);
    if (peer === undefined || peer.kind === 'emulated' || nic.kind === 'emulated') {
      reasons.push(`${nic.name} is not on ${destination}`);
      continue;
    }
    const onSource = await readyDevice(session.hostRunner(source), source, nic);
    const onDestination = await readyDevice(session.hostRunner(destination), destination, peer);
    if (typeof onSource === 'string' || typeof onDestination === 'string') {
      reasons.push(...[onSource, onDestination].filter((r): r is string => typeof r === 'string'));
      continue;
    }
    return { isFound: true, source: onSource, destination: onDestination };
  }
  const kinds = options.kinds === undefined ? '' : ` of kind ${options.kinds.join('/')}`;
  const other = (options.exclude ?? []).length > 0 ? ` other than ${(options.exclude ?? []).join(', ')}` : '';
  const none = candidates.length === 0 ? `no NIC${kinds}${other} of ${source} in ${session.lab.file} is a ${need} device (${describeNeed(need)})` : reasons.join('; ');
  return { isFound: false, reason: `missing capability: ${need} VFIO device: ${none}` };
}

function describeNeed(need: DeviceNeed): string {
  switch (need) {
    case 'migratable-without-device-dirty-tracking': return 'a VF with qat_vfio_pci, virtio_vfio_pci or xe_vfio_pci';
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
  const hasDeviceTracking = device.nic.kind === 'mdev' || (device.nic.kind === 'vf' && deviceMigrationHint(device.nic.vfioDriver).hasDeviceDirtyTracking === true);
  if (hasDeviceTracking) return false;
  const hasIommuTracking = backend === 'iommufd' && device.kind === 'vf' && session.missingCapabilities(['iommu-dirty-tracking']) === null;
  return !hasIommuTracking;
}

/** The VmNic QEMU gets for a device, with the backend and migration knobs of the scenario. */
export function vfioVmNic(device: AssignableDevice, options: { readonly id: string; readonly backend: VfioBackend; readonly migration?: VfioMigrationOptions }): VfioVmNic | MdevVmNic {
  const migration = options.migration !== undefined ? { migration: options.migration } : {};
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
