import { expect } from 'chai';
import type { MdevNicSpec, VfNicSpec } from '../config/types.js';
import { deviceFit, vfioVmNic, type AssignableDevice } from './assignableDevices.js';

const vf = (vfioDriver: string): VfNicSpec => ({ kind: 'vf', name: `vf-${vfioDriver}`, pf: '0000:3b:00.0', pfDriver: 'x', numVfs: 1, vfIndex: 0, vfioDriver, restoreDriver: null } as unknown as VfNicSpec);
const mtty: MdevNicSpec = { kind: 'mdev', name: 'mtty0', parent: 'mtty', type: 'mtty-2', uuid: '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001' } as MdevNicSpec;

describe('assignableDevices: which lab device serves which scenario need', () => {
  it('a device without DMA logging serves "without device dirty tracking" as it is', () => {
    expect(deviceFit(vf('qat_vfio_pci'), 'migratable-without-device-dirty-tracking', false, true)).to.equal('as-is');
    expect(deviceFit(vf('qat_vfio_pci'), 'migratable-with-device-dirty-tracking', false, true)).to.equal(null);
  });

  it('a device with DMA logging stands for one without it only where QEMU can switch it off', () => {
    expect(deviceFit(vf('mlx5_vfio_pci'), 'migratable-without-device-dirty-tracking', false, true)).to.equal('tracking-off');
    expect(deviceFit(mtty, 'migratable-without-device-dirty-tracking', true, true)).to.equal('tracking-off');
    expect(deviceFit(mtty, 'migratable-without-device-dirty-tracking', true, false)).to.equal(null);
    expect(deviceFit(mtty, 'migratable-without-device-dirty-tracking', false, true), 'an mdev parent that does not migrate').to.equal(null);
  });

  it('plain vfio-pci serves only "without migration" and "any"', () => {
    expect(deviceFit(vf('vfio-pci'), 'without-migration', true, true)).to.equal('as-is');
    expect(deviceFit(vf('vfio-pci'), 'any', true, true)).to.equal('as-is');
    for (const need of ['migratable', 'migratable-with-device-dirty-tracking', 'migratable-without-device-dirty-tracking'] as const) expect(deviceFit(vf('vfio-pci'), need, true, true), need).to.equal(null);
  });

  it('QEMU gets the device\'s needed knobs, and the scenario\'s own knobs win over them', () => {
    const device: AssignableDevice = { host: 'a', nic: mtty, kind: 'mdev', address: mtty.uuid, qemuName: mtty.uuid, neededMigration: { deviceDirtyPageTracking: 'off' } };
    expect(vfioVmNic(device, { id: 'vf0', backend: 'legacy', migration: { enableMigration: 'on' } })).to.deep.equal({ kind: 'mdev', id: 'vf0', uuid: mtty.uuid, backend: 'legacy', migration: { deviceDirtyPageTracking: 'off', enableMigration: 'on' } });
    expect(vfioVmNic(device, { id: 'vf0', backend: 'legacy', migration: { deviceDirtyPageTracking: 'on' } }).migration).to.deep.equal({ deviceDirtyPageTracking: 'on' });
  });
});
