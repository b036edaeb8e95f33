import { expect } from 'chai';
import { posix } from 'node:path';
import type { VfNicSpec } from '../../config/types.js';
import { runChecked } from '../../LocalRunner.js';
import { sh } from '../../shell.js';
import type { SshTransport } from '../../ssh/SshTransport.js';
import { UndoJournal } from '../UndoJournal.js';
import { UndoJournalError } from '../UndoJournalError.js';
import { detectIommuDirtyTracking } from './dirtyTracking.js';
import { FakeKernelRunner, fakeSysfsBuildScript } from '../../../test/support/fakeSysfs.js';
import { groupViability, readIommuGroup } from './iommuGroup.js';
import { LabHosts } from '../../../test/support/labHosts.js';
import { ProvisioningError } from './ProvisioningError.js';
import { DeviceProvisioner } from './DeviceProvisioner.js';

// UNIT TEST against a FAKE sysfs tree (fakeSysfs.ts) in a scratch folder on a virtual-lab host,
// over real SSH and a real shell: it checks the commands provisioning builds and the journal
// around them. Real SR-IOV hardware is DeviceProvisioner.nested.lab.test.ts.
describe('DeviceProvisioner on a FAKE sysfs tree (unit test over SSH; no real devices)', function () {
  const HOST = 'host-a';
  const PF = '0000:01:00.0';
  let hosts: LabHosts;
  let transport: SshTransport;
  let runner: FakeKernelRunner;
  let journal: UndoJournal;
  let scratch: string;

  const read = async (path: string): Promise<string> => (await runChecked(transport, sh`cat ${posix.join(runner.root, path)}`)).stdout.trim();
  const exists = async (path: string): Promise<boolean> => (await transport.run(sh`test -e ${posix.join(runner.root, path)}`)).exitCode === 0;
  const driverOf = async (address: string): Promise<string | null> => {
    const result = await transport.run(sh`readlink ${posix.join(runner.root, 'bus/pci/devices', address, 'driver')}`);
    return result.exitCode === 0 ? posix.basename(result.stdout.trim()) : null;
  };
  const open = (allowLocalDevices: boolean): Promise<DeviceProvisioner> =>
    DeviceProvisioner.open(runner, journal, { name: HOST, allowLocalDevices }, { sysfsRoot: runner.sysfsRoot, devRoot: runner.devRoot });

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    hosts = await LabHosts.open();
    transport = await hosts.transport(HOST);
  });

  beforeEach(async () => {
    scratch = await hosts.scratchDir(HOST, 'fake-sysfs');
    runner = new FakeKernelRunner(transport, posix.join(scratch, 'sys'));
    journal = new UndoJournal(runner, { workDir: posix.join(scratch, 'work'), runId: 'fake-sysfs-test' });
    await runChecked(transport, fakeSysfsBuildScript(runner.root, [
      { address: PF, driver: 'igb', group: 1, sriov: { totalVfs: 4, vfDriver: 'igbvf' } },
      { address: '0000:02:00.0', driver: 'e1000e', group: 7 },
      { address: '0000:02:00.1', driver: 'e1000e', group: 7 },
      { address: '0000:03:00.0', group: 8 },
      { address: '0000:00:03.0', driver: 'pcieport', group: 8 },
    ], ['igb', 'igbvf', 'e1000e', 'pcieport', 'vfio-pci', 'mlx5_vfio_pci']));
  });

  after(async () => {
    await hosts?.close();
  });

  it('refuses the lab host without allowLocalDevices: it is this machine (same boot_id), and nothing is touched', async () => {
    const error = await open(false).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(ProvisioningError);
    expect((error as ProvisioningError).code).to.equal('PROVISION_REFUSED_LOCAL');
    expect((error as Error).message).to.match(/host-a .* is the machine the harness runs on \(boot_id \S+ is the controller's\)/).and.include('hosts.host-a.allowLocalDevices: true');
    expect(await read(`bus/pci/devices/${PF}/sriov_numvfs`)).to.equal('0');
    expect((await journal.read()).entries).to.deep.equal([]);
  });

  it('provisions a VF NIC (VFs, viability, vfio-pci, nodes) journaled, and the replay restores bindings then VF count', async () => {
    // allowLocalDevices only because every path is under the fake root.
    const provisioner = await open(true);
    const nic: VfNicSpec = { kind: 'vf', name: 'nic0', pf: PF, pfDriver: 'igb', numVfs: 3, vfIndex: 1, vfioDriver: 'vfio-pci' };
    const provisioned = await provisioner.provisionVf(nic);
    expect(provisioned.vf).to.equal('0000:01:10.1');
    expect(await read(`bus/pci/devices/${PF}/sriov_numvfs`)).to.equal('3');
    expect(await provisioner.listVfs(PF)).to.deep.equal(['0000:01:10.0', '0000:01:10.1', '0000:01:10.2']);
    expect(await driverOf('0000:01:10.1')).to.equal('vfio-pci');
    // Autoprobe off while the VFs are made: the host's VF driver never takes them.
    expect(await driverOf('0000:01:10.0')).to.equal(null);
    expect(await read(`bus/pci/devices/${PF}/sriov_drivers_autoprobe`)).to.equal('0');
    expect(await read('bus/pci/devices/0000:01:10.1/driver_override')).to.equal('vfio-pci');
    expect(provisioned.nodes).to.deep.include({ isGroupNodePresent: true, isCdevNodePresent: true, isContainerNodePresent: true, isIommufdNodePresent: true });
    expect(provisioned.nodes.groupNode).to.equal(posix.join(runner.devRoot, `vfio/${provisioned.group.group}`));
    expect(provisioned.migration.hasMigration).to.equal(false);

    const entries = (await journal.read()).entries;
    expect(entries.map((e) => e.description)).to.deep.equal([`set ${PF} sriov_drivers_autoprobe 1 -> 0`, `set ${PF} sriov_numvfs 0 -> 3`, 'bind 0000:01:10.1 to vfio-pci (was unbound)']);

    // Half the replay: the binding goes back to no driver with driver_override cleared.
    await journal.undo(entries[2]!);
    expect(await driverOf('0000:01:10.1')).to.equal(null);
    expect(await read('bus/pci/devices/0000:01:10.1/driver_override')).to.equal('(null)');
    expect(await exists('dev/vfio/devices/vfio0')).to.equal(false);

    const replay = await journal.replay();
    expect(replay.undone.map((e) => e.description)).to.deep.equal([`set ${PF} sriov_numvfs 0 -> 3`, `set ${PF} sriov_drivers_autoprobe 1 -> 0`]);
    expect(await read(`bus/pci/devices/${PF}/sriov_numvfs`)).to.equal('0');
    expect(await read(`bus/pci/devices/${PF}/sriov_drivers_autoprobe`)).to.equal('1');
    expect(await exists('bus/pci/devices/0000:01:10.0')).to.equal(false);
    expect(await exists(posix.join('..', 'work', 'journal'))).to.equal(false);
  });

  it('binds an unbound function to a variant driver and an unbind of a bound one, each restored exactly', async () => {
    const provisioner = await open(true);
    await provisioner.bind('0000:03:00.0', 'mlx5_vfio_pci');
    await provisioner.unbind('0000:02:00.1');
    expect([await driverOf('0000:03:00.0'), await driverOf('0000:02:00.1')]).to.deep.equal(['mlx5_vfio_pci', null]);
    await journal.replay();
    expect([await driverOf('0000:03:00.0'), await driverOf('0000:02:00.1')]).to.deep.equal([null, 'e1000e']);
    expect(await read('bus/pci/devices/0000:03:00.0/driver_override')).to.equal('(null)');
  });

  it('names the member that makes a group not viable, and counts bridges and unbound members as fine', async () => {
    const shared = await readIommuGroup(runner, '0000:02:00.0', runner.sysfsRoot);
    expect(shared?.members).to.deep.equal([{ address: '0000:02:00.0', driver: 'e1000e' }, { address: '0000:02:00.1', driver: 'e1000e' }]);
    const verdict = groupViability(shared!, '0000:02:00.0');
    expect(verdict.isViable).to.equal(false);
    expect(verdict.reason).to.include('member 0000:02:00.1 is bound to host driver e1000e');
    const bridged = await readIommuGroup(runner, '0000:03:00.0', runner.sysfsRoot);
    expect(groupViability(bridged!, '0000:03:00.0').isViable).to.equal(true);
  });

  it('checks preconditions before any change and never lets a crafted value reach the shell', async () => {
    const provisioner = await open(true);
    const failure = async (promise: Promise<unknown>): Promise<ProvisioningError> => {
      const error = await promise.then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(ProvisioningError);
      return error as ProvisioningError;
    };
    expect((await failure(provisioner.createVfs('0000:02:00.0', 1))).message).to.include('is not an SR-IOV PF');
    expect((await failure(provisioner.createVfs(PF, 9))).message).to.include('supports 4 VFs, asked for 9');
    expect((await failure(provisioner.createVfs(PF, 1, { expectPfDriver: 'mlx5_core' }))).message).to.include('bound to igb, the lab file says mlx5_core');
    expect((await failure(provisioner.bind('0000:03:00.0', 'pds-vfio-pci'))).message).to.include('modprobe pds_vfio_pci');
    const crafted = await failure(provisioner.bind(`0000:03:00.0; touch ${scratch}/pwned`, 'vfio-pci'));
    expect(crafted.code).to.equal('PROVISION_BAD_VALUE');
    expect((await failure(provisioner.bind('0000:03:00.0', '../../../tmp/x'))).code).to.equal('PROVISION_BAD_VALUE');
    expect((await failure(provisioner.bind('0000:03:00.0', 'vfio-pci$(touch /tmp/pwned)'))).code).to.equal('PROVISION_BAD_VALUE');
    expect((await transport.run(sh`test -e ${`${scratch}/pwned`}`)).exitCode).to.equal(1);
    expect((await journal.read()).entries).to.deep.equal([]);
  });

  it('undoes a change that failed halfway at once (drivers_probe not writable)', async () => {
    const provisioner = await open(true);
    await runChecked(transport, sh`rm -f ${posix.join(runner.root, 'bus/pci/drivers_probe')} && mkdir ${posix.join(runner.root, 'bus/pci/drivers_probe')}`);
    const error = await provisioner.bind('0000:02:00.1', 'vfio-pci').then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(UndoJournalError);
    expect((error as Error).message).to.include('bind 0000:02:00.1 to vfio-pci (was e1000e)').and.include('undone right away');
    expect(await driverOf('0000:02:00.1')).to.equal('e1000e');
    expect(await read('bus/pci/devices/0000:02:00.1/driver_override')).to.equal('(null)');
    expect((await journal.read()).entries).to.deep.equal([]);
  });

  it('reads the IOMMU unit behind a device for dirty tracking', async () => {
    await runChecked(transport, [
      sh`R=${runner.root}`,
      'mkdir -p "$R/class/iommu/dmar0/intel-iommu" "$R/class/iommu/dmar1/intel-iommu"',
      'echo 19ed008c40780c66 > "$R/class/iommu/dmar0/intel-iommu/ecap"',
      'echo 1000000000000 > "$R/class/iommu/dmar1/intel-iommu/ecap"',
      'ln -s "$R/class/iommu/dmar1" "$R/bus/pci/devices/0000:02:00.0/iommu"',
    ].join('\n'));
    const all = await detectIommuDirtyTracking(runner, { sysfsRoot: runner.sysfsRoot });
    expect(all.units).to.deep.equal(['dmar0', 'dmar1']);
    const behindDevice = await detectIommuDirtyTracking(runner, { sysfsRoot: runner.sysfsRoot, address: '0000:02:00.0' });
    expect(behindDevice).to.deep.include({ isSupported: false, vendor: 'intel', units: ['dmar1'] });
    expect(behindDevice.reason).to.include('dmar1 lacks ECAP SMTS+SLADS');
  });
});
