import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { GuestActionError } from './GuestActionError.js';

export interface GuestVfioBinding {
  readonly bdf: string;
  readonly iommuGroup: number;
  /** /dev/vfio/<group>: what a VFIO user program opens (legacy group interface). */
  readonly groupNode: string;
  /** The group's default domain type as sysfs shows it: DMA, DMA-FQ or identity. */
  readonly defaultDomainType: string;
}

/**
 * Hands a guest PCI function to vfio-pci inside the guest (brief §5.4a): unbind whatever has it,
 * driver_override, drivers_probe. Needs the guest's IOMMU on: vfio-pci refuses a function without
 * an IOMMU group (the guest kernel has no VFIO no-IOMMU mode).
 */
export async function bindGuestVfioPci(guest: CommandRunner, bdf: string, timeoutMs = 30_000): Promise<GuestVfioBinding> {
  const dir = `/sys/bus/pci/devices/${bdf}`;
  const command = [
    sh`d=${dir}`,
    'if [ ! -e $d/iommu_group ]; then echo "bind: no iommu_group"; exit 3; fi',
    sh`if [ -e $d/driver ]; then echo ${bdf} > $d/driver/unbind; fi`,
    'echo vfio-pci > $d/driver_override',
    sh`echo ${bdf} > /sys/bus/pci/drivers_probe`,
    'g=$(basename $(readlink $d/iommu_group))',
    'echo "bind: driver=$(basename $(readlink $d/driver 2>/dev/null) 2>/dev/null) group=$g node=$([ -c /dev/vfio/$g ] && echo yes || echo no) type=$(cat /sys/kernel/iommu_groups/$g/type)"',
  ].join('; ');
  // A subshell: `exit` must end the script, not the console's shell.
  const result = await guest.run(`( ${command} )`, { timeoutMs });
  const match = /bind: driver=(\S*) group=(\d+) node=(yes|no) type=(\S+)/.exec(result.stdout);
  if (result.exitCode !== 0 || match === null) {
    const why = /bind: no iommu_group/.test(result.stdout) ? 'it has no IOMMU group: boot the guest with a vIOMMU and intel_iommu=on' : `exit ${result.exitCode}`;
    throw new GuestActionError('GUEST_VFIO_BIND', `Could not bind ${bdf} to vfio-pci over ${guest.where}: ${why}. Output: ${result.stdout.trim().slice(-400)}`, { data: { bdf } });
  }
  const [, driver, group, node, type] = match;
  if (driver !== 'vfio-pci' || node !== 'yes') {
    throw new GuestActionError('GUEST_VFIO_BIND', `After binding ${bdf} to vfio-pci over ${guest.where}: driver is "${driver}", /dev/vfio/${group} ${node === 'yes' ? 'exists' : 'is missing'} (is the vfio_pci module loaded?)`, { data: { bdf } });
  }
  return { bdf, iommuGroup: Number(group), groupNode: `/dev/vfio/${group}`, defaultDomainType: type! };
}
