import { expect } from 'chai';
import { autoprobeChange, bindChange, mdevCreateChange, mdevRecreateChange, numVfsChange, restoreBindingCommand, unbindChange } from './provisionCommands.js';
import { ProvisioningError } from './ProvisioningError.js';

describe('provisionCommands: sysfs writes and their exact undos', () => {
  const D = '/sys/bus/pci/devices';

  it('creates VFs by writing 0 then N, and undoes back to the count it found', () => {
    expect(numVfsChange('/sys', '0000:3b:00.0', { from: 0, to: 4 })).to.deep.equal({
      description: 'set 0000:3b:00.0 sriov_numvfs 0 -> 4',
      doCommand: `printf '%s\\n' 0 > ${D}/0000:3b:00.0/sriov_numvfs && printf '%s\\n' 4 > ${D}/0000:3b:00.0/sriov_numvfs`,
      undoCommand: `if [ -e ${D}/0000:3b:00.0/sriov_numvfs ]; then printf '%s\\n' 0 > ${D}/0000:3b:00.0/sriov_numvfs; fi`,
    });
    expect(numVfsChange('/sys', '0000:3b:00.0', { from: 2, to: 4 }).undoCommand).to.equal(
      `if [ -e ${D}/0000:3b:00.0/sriov_numvfs ]; then printf '%s\\n' 0 > ${D}/0000:3b:00.0/sriov_numvfs && printf '%s\\n' 2 > ${D}/0000:3b:00.0/sriov_numvfs; fi`,
    );
    expect(autoprobeChange('/sys', '0000:3b:00.0', { from: true, to: false }).undoCommand).to.include(`printf '%s\\n' 1 > ${D}/0000:3b:00.0/sriov_drivers_autoprobe`);
  });

  it('binds with unbind, driver_override, drivers_probe; the undo restores override and driver and checks it', () => {
    const change = bindChange('/sys', '0000:3b:00.2', { driver: 'mlx5_core', driverOverride: null }, 'mlx5_vfio_pci');
    expect(change.description).to.equal('bind 0000:3b:00.2 to mlx5_vfio_pci (was mlx5_core)');
    expect(change.doCommand).to.equal([
      `if [ -e ${D}/0000:3b:00.2/driver ]; then printf '%s\\n' 0000:3b:00.2 > ${D}/0000:3b:00.2/driver/unbind; fi`,
      `printf '%s\\n' mlx5_vfio_pci > ${D}/0000:3b:00.2/driver_override`,
      "printf '%s\\n' 0000:3b:00.2 > /sys/bus/pci/drivers_probe",
    ].join(' && '));
    expect(change.undoCommand).to.equal(
      `if [ -e ${D}/0000:3b:00.2 ]; then ` +
        `if [ -e ${D}/0000:3b:00.2/driver ]; then printf '%s\\n' 0000:3b:00.2 > ${D}/0000:3b:00.2/driver/unbind; fi && ` +
        `printf '%s\\n' '' > ${D}/0000:3b:00.2/driver_override && ` +
        "printf '%s\\n' 0000:3b:00.2 > /sys/bus/pci/drivers/mlx5_core/bind && " +
        `l=$(readlink ${D}/0000:3b:00.2/driver); [ "\${l##*/}" = mlx5_core ] || { echo '0000:3b:00.2 did not go back to mlx5_core'" (bound: \${l##*/})" >&2; exit 1; }; fi`,
    );
    expect(unbindChange('/sys', '0000:3b:00.2', { driver: 'igbvf', driverOverride: 'igbvf' }).undoCommand).to.include(`printf '%s\\n' igbvf > ${D}/0000:3b:00.2/driver_override`);
  });

  it('leaves a function that had no driver unbound on undo, and checks that too', () => {
    expect(restoreBindingCommand('/fake/sys', '0000:00:05.0', { driver: null, driverOverride: null })).to.include(
      "if [ -e /fake/sys/bus/pci/devices/0000:00:05.0/driver ]; then echo '0000:00:05.0 is bound again after being left unbound' >&2; exit 1; fi",
    );
  });

  for (const [what, call] of [
    ['an address with a command in it', () => bindChange('/sys', '0000:3b:00.2;reboot', { driver: null, driverOverride: null }, 'vfio-pci')],
    ['an address with $(...)', () => numVfsChange('/sys', '$(reboot)', { from: 0, to: 1 })],
    ['a driver that climbs out of /sys', () => bindChange('/sys', '0000:3b:00.2', { driver: null, driverOverride: null }, '../../../etc')],
    ['a driver with a space', () => bindChange('/sys', '0000:3b:00.2', { driver: null, driverOverride: null }, 'vfio pci')],
    ['a relative sysfs root', () => numVfsChange('sys', '0000:3b:00.0', { from: 0, to: 1 })],
    ['a sysfs root with ..', () => numVfsChange('/tmp/../sys', '0000:3b:00.0', { from: 0, to: 1 })],
  ] as const) {
    it(`refuses ${what} before building any command`, () => {
      expect(call).to.throw(ProvisioningError).with.property('code', 'PROVISION_BAD_VALUE');
    });
  }

  it('creates an mdev through its type\'s create file; the undo removes it only while it is there', () => {
    expect(mdevCreateChange('/sys', 'mtty', 'mtty-2', '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001')).to.deep.equal({
      description: 'create mdev 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 (mtty mtty-2)',
      doCommand: "printf '%s\\n' 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 > /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create",
      undoCommand: "if [ -e /sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/remove ]; then printf '%s\\n' 1 > /sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/remove; fi",
    });
  });

  it('refuses mdev names and UUIDs that could leave the sysfs folder or reach a shell', () => {
    for (const [parent, type, uuid] of [['../mtty', 'mtty-2', '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'], ['mtty', 'mtty 2', '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'], ['mtty', 'mtty-2', '83B8F4F2-509F-382F-3C1E-E6BFE0FA1001'], ['mtty', 'mtty-2', '$(reboot)']] as const) {
      expect(() => mdevCreateChange('/sys', parent, type, uuid), `${parent} ${type} ${uuid}`).to.throw(ProvisioningError);
    }
  });

  it('re-creates an mdev in one command; its undo only puts back one that is missing', () => {
    const device = '/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001';
    const create = "printf '%s\\n' 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 > /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create";
    expect(mdevRecreateChange('/sys', 'mtty', 'mtty-2', '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001')).to.deep.equal({
      description: 're-create mdev 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 (mtty mtty-2) to reset its state',
      doCommand: `if [ -e ${device}/remove ]; then printf '%s\\n' 1 > ${device}/remove; fi && ${create}`,
      undoCommand: `if [ ! -e ${device} ]; then ${create}; fi`,
    });
  });
});
