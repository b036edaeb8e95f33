import type { VmSpec } from '../../qemu/VmSpec.js';

/** What a launch asks for, as far as the devices under test go (a subset of LaunchOptions). */
export interface DeviceLaunch {
  readonly hasViommu?: boolean;
  readonly viommu?: unknown;
  readonly nics?: readonly { readonly kind: string }[];
  /** QEMU arguments that add a device under test beyond the VM's NICs and vIOMMU. */
  readonly deviceUnderTestArgs?: readonly string[];
}

/**
 * The devices under test of a VM: its VFIO devices and mdevs, its vIOMMU, and the devices a test
 * adds with deviceUnderTestArgs. Emulated NICs are the lab's, not under test.
 */
export function devicesUnderTest(spec: Pick<VmSpec, 'nics' | 'viommu'>, deviceUnderTestArgs: readonly string[] = []): string[] {
  const devices: string[] = [];
  for (const nic of spec.nics) {
    if (nic.kind === 'vfio') devices.push(`VFIO device ${nic.id} (${nic.host}, ${nic.backend})`);
    if (nic.kind === 'mdev') devices.push(`mdev ${nic.id} (${nic.uuid})`);
  }
  if (spec.viommu !== undefined) devices.push(`vIOMMU ${spec.viommu.model}`);
  for (let i = 0; i < deviceUnderTestArgs.length; i++) {
    if (deviceUnderTestArgs[i] === '-device' && deviceUnderTestArgs[i + 1] !== undefined) devices.push(`device ${deviceUnderTestArgs[i + 1]!.split(',')[0]!}`);
  }
  return devices;
}

/**
 * The control's launch: the same guest without its devices under test and without the vIOMMU.
 * Emulated NICs stay (the guest keeps the lab's network), VFIO devices and mdevs go.
 */
export function withoutDevicesUnderTest<T extends DeviceLaunch>(launch: T): Omit<T, 'viommu' | 'deviceUnderTestArgs'> & { readonly hasViommu: false } {
  const { viommu: _viommu, deviceUnderTestArgs: _args, ...rest } = launch;
  return {
    ...rest,
    hasViommu: false,
    ...(launch.nics !== undefined ? { nics: launch.nics.filter((nic) => nic.kind === 'emulated') } : {}),
  };
}
