import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner } from '../LocalRunner.js';
import { TEST_QEMU_BINARY } from '../../test/support/spawnTestQemu.js';
import { QemuInstallationError, QemuStartError, QemuStateError, VmSpecError } from './errors.js';
import { probeVmProcess } from './probeVmProcess.js';
import { LocalUnixSockets } from './LocalUnixSockets.js';
import { QemuProcess } from './QemuProcess.js';
import { testVmSpec } from '../../test/support/testVmSpec.js';
import { vmFiles } from './vmFiles.js';
import type { VmSpec } from './VmSpec.js';
import type { UnixSocketOpener } from './openListeningSocket.js';

const localSockets = new LocalUnixSockets();

function isPidAlive(pid: number): boolean {
  // /proc/<pid>/cmdline is empty for a zombie waiting to be reaped: that is not alive either.
  return existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
}

describe('QemuProcess (real QEMU through LocalRunner)', function () {
  this.timeout(60_000);
  const runner = new LocalRunner();
  let workDir: string;
  let vms: QemuProcess[];

  function makeVm(name: string, overrides: Partial<VmSpec> = {}): QemuProcess {
    const vm = new QemuProcess(testVmSpec(workDir, name, overrides), { runner, sockets: localSockets, binary: TEST_QEMU_BINARY, workDir });
    vms.push(vm);
    return vm;
  }

  beforeEach(function () {
    workDir = mkdtempSync(join(tmpdir(), 'hil-qp-'));
    vms = [];
  });

  afterEach(async function () {
    for (const vm of vms) await vm.stop({ quitTimeoutMs: 2000, termTimeoutMs: 2000, killTimeoutMs: 5000 });
    rmSync(workDir, { recursive: true, force: true });
  });

  it('starts, answers on QMP, is alive by pid, and stops with QMP quit leaving no files', async function () {
    const vm = makeVm('hil-qptest-src');
    expect(vm.state).to.equal('created');
    await vm.start();
    expect(vm.state).to.equal('running');
    expect(readFileSync(`/proc/${vm.pid}/cmdline`, 'utf8').split('\0')).to.include('guest=hil-qptest-src');
    expect(readFileSync(vm.files.pidFile, 'utf8').trim()).to.equal(String(vm.pid));
    expect(await vm.qmp.execute('query-status')).to.deep.include({ status: 'prelaunch' });
    expect(await vm.isRunning()).to.equal(true);

    const outcome = await vm.stop();
    expect(outcome).to.deep.equal({ how: 'quit', notes: [] });
    expect(vm.state).to.equal('stopped');
    expect(isPidAlive(vm.pid)).to.equal(false);
    expect(await vm.isRunning()).to.equal(false);
    for (const file of [vm.files.qmpSocket, vm.files.serialSocket, vm.files.pidFile]) expect(existsSync(file), file).to.equal(false);
    expect(await vm.stop()).to.equal(outcome);
  });

  it('waits for QEMU to listen on a QMP socket whose file is already there (bind comes before listen)', async function () {
    // The window between QEMU's bind() and listen(): connects to the socket's path are refused.
    let refusalsLeft = 3;
    let opens = 0;
    const refusingFirst: UnixSocketOpener = {
      openUnixSocket: async (path) => {
        opens++;
        if (refusalsLeft-- > 0) throw Object.assign(new Error(`connect ECONNREFUSED ${path}`), { code: 'ECONNREFUSED' });
        return localSockets.openUnixSocket(path);
      },
    };
    const vm = new QemuProcess(testVmSpec(workDir, 'hil-qptest-listen'), { runner, sockets: refusingFirst, binary: TEST_QEMU_BINARY, workDir });
    vms.push(vm);
    await vm.start();
    expect(opens).to.equal(4);
    expect(await vm.qmp.execute('query-status')).to.deep.include({ status: 'prelaunch' });
  });

  it('fails start with QEMU realize error from its log, and leaves nothing running', async function () {
    const vm = makeVm('hil-qptest-bad', { nics: [{ kind: 'vfio', id: 'vf0', host: '0000:3b:00.2', backend: 'legacy' }] });
    let error: unknown;
    await vm.start({ timeoutMs: 20_000 }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(QemuStartError);
    expect((error as Error).message).to.contain('QEMU for hil-qptest-bad on controller did not start').and.to.contain('no such host device');
    expect(vm.state).to.equal('stopped');
    expect(await vm.isRunning()).to.equal(false);
    expect(existsSync(vm.files.pidFile)).to.equal(false);
    expect((await vm.stop()).how).to.equal('already-exited');
  });

  it('fails start on missing firmware as a lab fault (QemuInstallationError), not as a start failure a suite judges', async function () {
    // A QEMU source build installed without its data folder fails exactly so.
    const vm = makeVm('hil-qptest-nobios', { extraArgs: ['-bios', join(workDir, 'no-firmware', 'bios-256k.bin')] });
    let error: unknown;
    await vm.start({ timeoutMs: 20_000 }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(QemuInstallationError);
    expect(error).not.to.be.instanceOf(QemuStartError);
    expect((error as QemuInstallationError).isInfrastructure).to.equal(true);
    expect((error as QemuInstallationError).code).to.equal('QEMU_INSTALLATION_FAULT');
    expect((error as Error).message).to.contain("could not load PC BIOS").and.to.contain('its firmware is missing');
    expect((error as Error).cause).to.be.instanceOf(QemuStartError);
    expect(vm.state).to.equal('stopped');
  });

  it('tracks liveness by pid, not by the socket file', async function () {
    const vm = makeVm('hil-qptest-live');
    await vm.start();
    unlinkSync(vm.files.qmpSocket);
    expect(await vm.isRunning()).to.equal(true);
    process.kill(vm.pid, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while ((await vm.isRunning()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await vm.isRunning()).to.equal(false);
    expect((await vm.stop()).how).to.equal('already-exited');
  });

  it('does not take another process on a reused pid for the VM', async function () {
    const files = vmFiles(workDir, 'hil-qptest-reuse');
    writeFileSync(files.pidFile, `${process.pid}\n`);
    const probe = await probeVmProcess(runner, { name: 'hil-qptest-reuse', pidFile: files.pidFile, qmpSocket: files.qmpSocket });
    expect(probe.pid).to.equal(process.pid);
    expect(probe.isAlive).to.equal(false);
    expect(probe.seen).to.contain(`pid ${process.pid} is another process`);
  });

  it('falls back to SIGTERM when QMP is gone, and QEMU says so in its log', async function () {
    const vm = makeVm('hil-qptest-term');
    await vm.start();
    await vm.qmp.close();
    const outcome = await vm.stop({ termTimeoutMs: 10_000 });
    expect(outcome.how).to.equal('sigterm');
    expect(await vm.readLog()).to.contain('terminating on signal 15');
  });

  it('escalates to SIGKILL when QEMU cannot react (SIGSTOPped)', async function () {
    const vm = makeVm('hil-qptest-kill');
    await vm.start();
    process.kill(vm.pid, 'SIGSTOP');
    const outcome = await vm.stop({ quitTimeoutMs: 300, termTimeoutMs: 300, killTimeoutMs: 5000 });
    expect(outcome.how).to.equal('sigkill');
    expect(outcome.notes.join('\n')).to.contain('after QMP quit').and.to.contain('after SIGTERM');
    expect(isPidAlive(vm.pid)).to.equal(false);
  });

  it('refuses calls in the wrong state, naming the call and the state', async function () {
    const vm = makeVm('hil-qptest-state');
    expect(() => vm.qmp).to.throw(QemuStateError, /qmp\(\) for hil-qptest-state .* VM is created/);
    expect(() => vm.pid).to.throw(QemuStateError, /pid\(\)/);
    expect(await vm.isRunning()).to.equal(false);
    await vm.start();
    const again = await vm.start().catch((e: unknown) => e);
    expect(again).to.be.instanceOf(QemuStateError);
    expect((again as Error).message).to.contain('start()').and.to.contain('VM is running');
    await vm.stop();
    expect(() => vm.qmp).to.throw(QemuStateError, /VM is stopped/);
  });

  it('rejects an invalid spec when constructed', function () {
    expect(() => makeVm('hil-qptest-spec', { machine: 'pc', viommu: { model: 'intel-iommu' } })).to.throw(VmSpecError, /needs a q35 machine/);
  });

  it('gives an undo command that kills the VM and removes its files (for the host journal)', async function () {
    const vm = makeVm('hil-qptest-undo');
    await vm.start();
    const pid = vm.pid;
    await runner.run(vm.undoCommand);
    const deadline = Date.now() + 5000;
    while (isPidAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(isPidAlive(pid)).to.equal(false);
    expect(existsSync(vm.files.pidFile)).to.equal(false);
    expect(existsSync(vm.files.qmpSocket)).to.equal(false);
    expect(existsSync(vm.files.log), 'QEMU log').to.equal(false);
  });
});
