import { posix } from 'node:path';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import { checkSysfsRoot, DEFAULT_SYSFS_ROOT, pciDevicePath, runRead } from './pciSysfs.js';
import { mdevDevicePath } from './provisionCommands.js';

/**
 * The device nodes QEMU opens for one VFIO function. Legacy (type1 container): the group node
 * /dev/vfio/<group> plus /dev/vfio/vfio. IOMMUFD: the device cdev /dev/vfio/devices/vfioX (X from
 * the function's vfio-dev/ folder in sysfs) plus /dev/iommu; cdevs only work with IOMMUFD.
 */
export interface VfioNodes {
  /** PCI address, or the mdev's UUID. */
  readonly address: string;
  readonly iommuGroup: number | null;
  readonly groupNode: string | null;
  readonly isGroupNodePresent: boolean;
  readonly containerNode: string;
  readonly isContainerNodePresent: boolean;
  /** Null when the function has no vfio-dev (not bound to a VFIO driver, or a kernel without VFIO cdev). */
  readonly cdevNode: string | null;
  readonly isCdevNodePresent: boolean;
  readonly iommufdNode: string;
  readonly isIommufdNodePresent: boolean;
}

export interface DeviceRoots {
  readonly sysfsRoot?: string;
  readonly devRoot?: string;
}

export function findVfioNodes(runner: CommandRunner, address: string, roots: DeviceRoots = {}): Promise<VfioNodes> {
  return findVfioNodesAt(runner, pciDevicePath(roots.sysfsRoot ?? DEFAULT_SYSFS_ROOT, address), address, roots);
}

/** The same for an mdev: its group (an emulated one under type1) and its cdev under /sys/bus/mdev/devices/<uuid>. */
export function findMdevVfioNodes(runner: CommandRunner, uuid: string, roots: DeviceRoots = {}): Promise<VfioNodes> {
  return findVfioNodesAt(runner, mdevDevicePath(roots.sysfsRoot ?? DEFAULT_SYSFS_ROOT, uuid), uuid, roots);
}

async function findVfioNodesAt(runner: CommandRunner, device: string, address: string, roots: DeviceRoots): Promise<VfioNodes> {
  const dev = checkSysfsRoot(roots.devRoot ?? '/dev', 'device root');
  const script = [
    sh`d=${device}; dev=${dev}`,
    'present() { if [ -e "$2" ]; then echo "$1 $2 yes"; else echo "$1 $2 no"; fi; }',
    'if [ -e "$d/iommu_group" ]; then g=$(readlink "$d/iommu_group"); g=${g##*/}; echo "group $g"; present groupNode "$dev/vfio/$g"; fi',
    'present containerNode "$dev/vfio/vfio"',
    'for c in "$d"/vfio-dev/vfio*; do [ -e "$c" ] || continue; present cdevNode "$dev/vfio/devices/${c##*/}"; done',
    'present iommufdNode "$dev/iommu"',
  ].join('\n');
  const stdout = (await runRead(runner, script, `find the VFIO device nodes of ${address}`)).stdout;
  const node = (key: string): { path: string | null; isPresent: boolean } => {
    const match = new RegExp(`^${key} (\\S+) (yes|no)$`, 'm').exec(stdout);
    return { path: match?.[1] ?? null, isPresent: match?.[2] === 'yes' };
  };
  const group = /^group (\d+)$/m.exec(stdout);
  const [groupNode, container, cdev, iommufd] = [node('groupNode'), node('containerNode'), node('cdevNode'), node('iommufdNode')];
  return {
    address,
    iommuGroup: group === null ? null : Number(group[1]),
    groupNode: groupNode.path,
    isGroupNodePresent: groupNode.isPresent,
    containerNode: container.path ?? posix.join(dev, 'vfio/vfio'),
    isContainerNodePresent: container.isPresent,
    cdevNode: cdev.path,
    isCdevNodePresent: cdev.isPresent,
    iommufdNode: iommufd.path ?? posix.join(dev, 'iommu'),
    isIommufdNodePresent: iommufd.isPresent,
  };
}
