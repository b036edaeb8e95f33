import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnvironment } from '../../config/environment.js';
import { loadLab } from '../../config/loadLab.js';
import type { HostSpec, MdevNicSpec, VfNicSpec } from '../../config/types.js';
import { LocalRunner, runChecked } from '../../LocalRunner.js';
import { NestedLab } from '../../nested-lab/NestedLab.js';
import { nestedLabGate } from '../../../test/support/nestedLabGate.js';
import { projectRoot } from '../../projectRoot.js';
import { sh } from '../../shell.js';
import type { SshTransport } from '../../ssh/SshTransport.js';
import { TeardownStack } from '../../teardown.js';
import { HostConnections } from '../HostConnections.js';
import { preflightLab } from '../preflightLab.js';
import type { CrashPlan } from '../../../test/support/UndoJournalCrashChild.js';
import { UndoJournal } from '../UndoJournal.js';
import { replayHostJournal } from '../UndoJournalRecovery.js';
import { detectIommuDirtyTracking } from './dirtyTracking.js';
import { DeviceProvisioner } from './DeviceProvisioner.js';

const environment = readEnvironment();
const gate = nestedLabGate(environment);
const labFile = join(projectRoot(), 'labs', 'nested.yaml');
const CHILD = fileURLToPath(new URL('../../../test/support/UndoJournalCrashChild.js', import.meta.url));

/** A lab host whose preflight found SR-IOV, with the VF NIC lab.yaml gives it. */
interface SriovHost {
  readonly host: HostSpec;
  readonly nic: VfNicSpec;
  readonly transport: SshTransport;
}

// REAL HARDWARE (as real as this project gets): the nested lab's L1 hosts are VMs with an igb
// SR-IOV NIC behind an emulated VT-d and a real Linux 6.12 VFIO stack. Every test skips, naming
// the reason, when no lab host has the `sriov` capability.
(gate.runs ? describe : describe.skip)(`DeviceProvisioner on a real SR-IOV NIC in the nested lab (${gate.reason})`, function () {
  const config = loadLab(labFile);
  const teardown = new TeardownStack('nested provisioning test');
  const connections = new HostConnections(config, environment);
  let target: SriovHost | null = null;
  let skipReason = 'not looked yet';
  let mdevTarget: { readonly host: HostSpec; readonly nic: MdevNicSpec; readonly transport: SshTransport } | null = null;
  let mdevSkipReason = 'not looked yet';

  const needSriov = (test: Mocha.Context): SriovHost => {
    if (target === null) {
      test.test!.title += ` — SKIPPED: ${skipReason}`;
      test.skip();
    }
    return target!;
  };

  before(async function () {
    this.timeout(40 * 60_000);
    const lab = new NestedLab(config, new LocalRunner(), () => undefined, { isRoot: environment.isRoot });
    if (!(await lab.status()).isUp) {
      await lab.up();
      teardown.push('bring the nested lab down (this test brought it up)', async () => {
        await lab.down();
      });
    }
    teardown.push('close SSH connections', () => connections.closeAll());
    const report = await preflightLab(config, connections);
    const reasons: string[] = [];
    for (const preflight of report.hosts) {
      const sriov = preflight.capabilities.find((c) => c.capability === 'sriov');
      const host = config.hosts[preflight.host]!;
      const nic = host.nics.find((n): n is VfNicSpec => n.kind === 'vf');
      if (sriov?.isPresent !== true || nic === undefined) {
        reasons.push(`${preflight.host}: ${!preflight.isReachable ? 'unreachable' : nic === undefined ? 'no vf NIC in the lab file' : sriov?.reason ?? 'sriov not derived'}`);
        continue;
      }
      target = { host, nic, transport: await connections.open(host) };
      break;
    }
    skipReason = `no lab host with the sriov capability (${reasons.join('; ')})`;
    const mdevReasons: string[] = [];
    for (const preflight of report.hosts) {
      const host = config.hosts[preflight.host]!;
      const nic = host.nics.find((n): n is MdevNicSpec => n.kind === 'mdev');
      const mdev = preflight.capabilities.find((c) => c.capability === 'mdev');
      if (mdev?.isPresent !== true || nic === undefined) {
        mdevReasons.push(`${preflight.host}: ${nic === undefined ? 'no mdev NIC in the lab file' : mdev?.reason ?? 'mdev not derived'}`);
        continue;
      }
      mdevTarget = { host, nic, transport: await connections.open(host) };
      break;
    }
    mdevSkipReason = `no lab host with the mdev capability (${mdevReasons.join('; ')})`;
  });

  after(async function () {
    this.timeout(5 * 60_000);
    await teardown.run();
  });

  /** A journal of the test's own under the host's workDir: the run's journal is never touched. */
  const scratchJournal = async (sriov: Pick<SriovHost, 'host' | 'transport'>, label: string): Promise<{ journal: UndoJournal; workDir: string }> => {
    const workDir = posix.join(sriov.host.workDir, `test-${label}-${process.pid}`);
    await runChecked(sriov.transport, sh`mkdir -p -m 0700 ${workDir}`);
    teardown.push(`remove ${workDir}`, async () => {
      await runChecked(sriov.transport, sh`rm -rf -- ${workDir}`);
    });
    return { journal: new UndoJournal(sriov.transport, { workDir, runId: label }), workDir };
  };

  it('creates VFs, binds one to vfio-pci in a viable group with its VFIO nodes, and the replay restores driver and VF count', async function () {
    this.timeout(5 * 60_000);
    const sriov = needSriov(this);
    const { journal } = await scratchJournal(sriov, 'provision');
    const provisioner = await DeviceProvisioner.open(sriov.transport, journal, sriov.host);
    expect(provisioner.access.isControllerMachine).to.equal(false);
    const before = await provisioner.readFunction(sriov.nic.pf);

    const provisioned = await provisioner.provisionVf(sriov.nic);
    expect((await provisioner.readFunction(sriov.nic.pf)).sriovNumVfs).to.equal(sriov.nic.numVfs);
    expect((await provisioner.readFunction(provisioned.vf)).driver).to.equal(sriov.nic.vfioDriver);
    expect(provisioned.group.members.map((m) => m.address)).to.include(provisioned.vf);
    expect(provisioned.nodes).to.deep.include({ isGroupNodePresent: true, isIommufdNodePresent: true, isCdevNodePresent: true });
    const dirty = await detectIommuDirtyTracking(sriov.transport, { address: provisioned.vf });
    expect(dirty.vendor).to.equal('intel');

    const replay = await journal.replay();
    // Newest first: the binding goes back before the VFs go away, and autoprobe is put back last.
    const undone = replay.undone.map((e) => e.description);
    expect(undone).to.have.length(before.isSriovDriversAutoprobe === false ? 2 : 3);
    expect(undone[0]).to.match(new RegExp(`^bind ${provisioned.vf.replace(/\./g, '\\.')} to ${sriov.nic.vfioDriver} \\(was `));
    expect(undone[1]).to.equal(`set ${sriov.nic.pf} sriov_numvfs ${before.sriovNumVfs} -> ${sriov.nic.numVfs}`);
    if (before.isSriovDriversAutoprobe !== false) expect(undone[2]).to.equal(`set ${sriov.nic.pf} sriov_drivers_autoprobe 1 -> 0`);
    const after = await provisioner.readFunction(sriov.nic.pf);
    expect([after.sriovNumVfs, after.driver, after.vfs, after.isSriovDriversAutoprobe]).to.deep.equal([before.sriovNumVfs, before.driver, before.vfs, before.isSriovDriversAutoprobe]);
  });

  it('restores the host after the controller is SIGKILLed mid-provisioning', async function () {
    this.timeout(5 * 60_000);
    const sriov = needSriov(this);
    const { workDir } = await scratchJournal(sriov, 'provision-crash');
    const before = await (await DeviceProvisioner.open(sriov.transport, new UndoJournal(sriov.transport, { workDir, runId: 'read' }), sriov.host)).readFunction(sriov.nic.pf);
    const plan: CrashPlan = {
      mode: 'provision', labFile, host: sriov.host.name, workDir, runId: 'killed-mid-provisioning',
      pf: sriov.nic.pf, numVfs: sriov.nic.numVfs, vfIndex: sriov.nic.vfIndex, driver: sriov.nic.vfioDriver,
    };
    const child = spawn(process.execPath, [CHILD, JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the child did not finish provisioning within 120 s: ${out}`)), 120_000);
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('ready\n')) { clearTimeout(timer); resolve(); }
        });
        child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the child exited ${code} before it was killed: ${out}`)); });
      });
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).to.equal('SIGKILL');

    const outcome = await replayHostJournal({ name: sriov.host.name, workDir }, sriov.transport);
    expect(outcome.isClean, outcome.error?.join('\n')).to.equal(true);
    expect(outcome.replay?.undone).to.have.length(2);
    const after = await (await DeviceProvisioner.open(sriov.transport, new UndoJournal(sriov.transport, { workDir, runId: 'read' }), sriov.host)).readFunction(sriov.nic.pf);
    expect([after.sriovNumVfs, after.driver, after.vfs]).to.deep.equal([before.sriovNumVfs, before.driver, before.vfs]);
  });

  it('creates the lab file\'s mdev with its VFIO nodes, leaves an existing one alone, names the types a wrong one could have been, and the replay removes what it made', async function () {
    this.timeout(5 * 60_000);
    if (mdevTarget === null) {
      this.test!.title += ` — SKIPPED: ${mdevSkipReason}`;
      this.skip();
    }
    const { host, transport } = mdevTarget!;
    // A UUID of the test's own: a run of the suites on this lab uses the lab file's.
    const nic: MdevNicSpec = { ...mdevTarget!.nic, name: 'test-mdev', uuid: `83b8f4f2-509f-382f-3c1e-${String(process.pid % 1e12).padStart(12, '0')}` };
    const exists = async () => (await transport.run(sh`[ -e ${`/sys/bus/mdev/devices/${nic.uuid}`} ] && echo yes || echo no`)).stdout.trim();
    const { journal } = await scratchJournal({ host, transport }, 'mdev');
    teardown.push(`remove mdev ${nic.uuid} if the test left it`, async () => { await transport.run(sh`[ -e ${`/sys/bus/mdev/devices/${nic.uuid}/remove`} ] && echo 1 > ${`/sys/bus/mdev/devices/${nic.uuid}/remove`}; true`); });
    const provisioner = await DeviceProvisioner.open(transport, journal, host);
    expect(await exists()).to.equal('no');

    const created = await provisioner.provisionMdev(nic);
    expect(created).to.include({ uuid: nic.uuid, isCreated: true });
    expect(await exists()).to.equal('yes');
    expect(created.nodes.iommuGroup, 'the mdev\'s (emulated) IOMMU group').to.be.a('number');
    expect(created.nodes).to.deep.include({ isGroupNodePresent: true, isCdevNodePresent: true, isIommufdNodePresent: true });

    const again = await provisioner.provisionMdev(nic);
    expect(again.isCreated, 'an mdev that exists is used as it is').to.equal(false);
    const wrongType = await provisioner.provisionMdev({ ...nic, type: 'mtty-9' }).then(() => null, (e: unknown) => e as Error);
    expect(wrongType?.message).to.equal(`test-mdev on ${transport.where}: mdev ${nic.uuid} exists with type mtty-2, the lab file says mtty-9; remove it or change the lab file`);
    const unknownType = await provisioner.provisionMdev({ ...nic, uuid: nic.uuid.replace(/.$/, (c) => (c === 'f' ? 'e' : 'f')), type: 'mtty-9' }).then(() => null, (e: unknown) => e as Error);
    expect(unknownType?.message).to.equal(`test-mdev on ${transport.where}: mdev parent mtty has no type mtty-9; it offers mtty-1, mtty-2`);

    const replay = await journal.replay();
    expect(replay.undone.map((e) => e.description)).to.deep.equal([`create mdev ${nic.uuid} (mtty mtty-2)`]);
    expect(await exists()).to.equal('no');
  });
});
