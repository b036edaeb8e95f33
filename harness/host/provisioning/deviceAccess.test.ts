import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner } from '../../LocalRunner.js';
import { UndoJournal } from '../UndoJournal.js';
import { checkDeviceAccess, controllerMachineIdentity, isSameMachine, readMachineIdentity } from './deviceAccess.js';
import { groupViability, isVfioCompatibleDriver } from './iommuGroup.js';
import { ProvisioningError } from './ProvisioningError.js';
import { DeviceProvisioner } from './DeviceProvisioner.js';

describe('device access: never the controller\'s own devices unless allowed', () => {
  it('decides by boot_id (same kernel, same devices), else machine-id, else refuses', () => {
    const me = { machineId: 'm1', bootId: 'b1' };
    expect(isSameMachine({ machineId: 'other', bootId: 'b1' }, me).isSame).to.equal(true);
    expect(isSameMachine({ machineId: 'm1', bootId: 'b2' }, me).isSame).to.equal(false);
    expect(isSameMachine({ machineId: 'm1', bootId: null }, me).isSame).to.equal(true);
    expect(isSameMachine({ machineId: 'm2', bootId: null }, me).isSame).to.equal(false);
    expect(isSameMachine({ machineId: null, bootId: null }, me)).to.deep.equal({ isSame: true, basis: 'neither boot_id nor machine-id could be compared, so it may be the controller' });
  });

  it('finds the controller itself through a shell on it, and refuses to provision there', async () => {
    const runner = new LocalRunner();
    expect(await readMachineIdentity(runner)).to.deep.equal(controllerMachineIdentity());
    const access = await checkDeviceAccess({ name: 'self', allowLocalDevices: false }, runner);
    expect(access).to.deep.include({ isControllerMachine: true, mayChangeDevices: false });
    const workDir = mkdtempSync(join(tmpdir(), 'hil-refuse-'));
    try {
      const error = await DeviceProvisioner.open(runner, new UndoJournal(runner, { workDir, runId: 't' }), { name: 'self', allowLocalDevices: false }).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ProvisioningError).with.property('code', 'PROVISION_REFUSED_LOCAL');
      expect((error as Error).message).to.include('Refusing to provision devices: self (controller) is the machine the harness runs on').and.include('hosts.self.allowLocalDevices: true');
      expect((await checkDeviceAccess({ name: 'self', allowLocalDevices: true }, runner)).mayChangeDevices).to.equal(true);
      expect((await checkDeviceAccess({ name: 'vm', allowLocalDevices: false }, runner, { machineId: 'x', bootId: 'another-boot' })).mayChangeDevices).to.equal(true);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

describe('IOMMU group viability', () => {
  it('accepts VFIO and variant drivers, pci-stub, pcieport and unbound members; names any other', () => {
    expect([null, 'vfio-pci', 'mlx5_vfio_pci', 'pds-vfio-pci', 'pci-stub', 'pcieport'].every(isVfioCompatibleDriver)).to.equal(true);
    expect(['igbvf', 'mlx5_core', 'nvme'].some(isVfioCompatibleDriver)).to.equal(false);
    const group = { group: 12, members: [{ address: '0000:3b:00.2', driver: 'igbvf' }, { address: '0000:3b:00.3', driver: 'igbvf' }, { address: '0000:00:01.0', driver: 'pcieport' }] };
    // The device itself may still be on its host driver: it is about to be rebound.
    const verdict = groupViability(group, '0000:3b:00.2');
    expect(verdict.blockers).to.deep.equal([{ address: '0000:3b:00.3', driver: 'igbvf' }]);
    expect(verdict.reason).to.equal(
      'IOMMU group 12 of 0000:3b:00.2 is not viable for VFIO: member 0000:3b:00.3 is bound to host driver igbvf (unbind it or bind it to vfio-pci too). ' +
        'Members: 0000:3b:00.2 (igbvf), 0000:3b:00.3 (igbvf), 0000:00:01.0 (pcieport)',
    );
  });
});
