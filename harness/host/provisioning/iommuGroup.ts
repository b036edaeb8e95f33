import { posix } from 'node:path';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import { checkSysfsRoot, DEFAULT_SYSFS_ROOT, pciDevicePath, runRead } from './pciSysfs.js';

export interface IommuGroupMember {
  readonly address: string;
  readonly driver: string | null;
}

export interface IommuGroup {
  readonly group: number;
  /** Every device of the group, the one asked about included. */
  readonly members: readonly IommuGroupMember[];
}

export interface GroupViability {
  readonly isViable: boolean;
  /** Members (other than the device itself) bound to a host driver that owns DMA. */
  readonly blockers: readonly IommuGroupMember[];
  readonly reason: string;
}

/** The IOMMU group of a function and its members; null when the function has none (no IOMMU). */
export async function readIommuGroup(runner: CommandRunner, address: string, sysfsRoot = DEFAULT_SYSFS_ROOT): Promise<IommuGroup | null> {
  const device = pciDevicePath(sysfsRoot, address);
  const groups = posix.join(checkSysfsRoot(sysfsRoot), 'kernel/iommu_groups');
  const script = [
    sh`d=${device}; groups=${groups}`,
    'if [ ! -e "$d/iommu_group" ]; then echo none; exit 0; fi',
    'g=$(readlink "$d/iommu_group") || exit 1; g=${g##*/}; echo "group $g"',
    'for m in "$groups/$g/devices"/*; do [ -e "$m" ] || continue; drv=; if [ -e "$m/driver" ]; then l=$(readlink "$m/driver"); drv=${l##*/}; fi; echo "member ${m##*/} $drv"; done',
  ].join('\n');
  const stdout = (await runRead(runner, script, `read the IOMMU group of ${address}`)).stdout;
  const groupLine = /^group (\d+)$/m.exec(stdout);
  if (groupLine === null) return null;
  const members = [...stdout.matchAll(/^member (\S+) ?(\S*)$/gm)].map((m) => ({ address: m[1]!, driver: m[2] === '' ? null : m[2]! }));
  return { group: Number(groupLine[1]), members };
}

/**
 * Drivers that leave the group's DMA to VFIO: VFIO itself and its variant drivers, pci-stub, and
 * pcieport (bridges set driver_managed_dma since Linux 5.19). Anything else owns DMA for the host.
 */
export function isVfioCompatibleDriver(driver: string | null): boolean {
  return driver === null || /vfio[-_]pci$/.test(driver) || driver === 'pci-stub' || driver === 'pcieport';
}

/** Can `address` be given to VFIO? Every other member must be unbound, VFIO-bound, pci-stub or a bridge. */
export function groupViability(group: IommuGroup, address: string): GroupViability {
  const blockers = group.members.filter((m) => m.address !== address && !isVfioCompatibleDriver(m.driver));
  const list = group.members.map((m) => `${m.address} (${m.driver ?? 'unbound'})`).join(', ');
  return {
    isViable: blockers.length === 0,
    blockers,
    reason: blockers.length === 0
      ? `IOMMU group ${group.group} of ${address} is viable: ${list}`
      : `IOMMU group ${group.group} of ${address} is not viable for VFIO: ${blockers.map((b) => `member ${b.address} is bound to host driver ${b.driver}`).join('; ')} ` +
        `(unbind it or bind it to vfio-pci too). Members: ${list}`,
  };
}
