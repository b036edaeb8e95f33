import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner } from '../LocalRunner.js';
import { TEST_QEMU_BINARY } from '../../test/support/spawnTestQemu.js';
import { LocalUnixSockets } from './LocalUnixSockets.js';
import { QemuProcess } from './QemuProcess.js';
import { findStaleQemu, killStaleQemu } from './staleQemu.js';
import { testVmSpec } from '../../test/support/testVmSpec.js';
import { vmFiles } from './vmFiles.js';

describe('findStaleQemu / killStaleQemu (real QEMU through LocalRunner)', function () {
  this.timeout(60_000);
  const runner = new LocalRunner();
  let workDir: string;
  let vms: QemuProcess[];

  beforeEach(function () {
    workDir = mkdtempSync(join(tmpdir(), 'hil-stale-'));
    vms = [];
  });

  afterEach(async function () {
    for (const vm of vms) await vm.stop({ quitTimeoutMs: 2000, termTimeoutMs: 2000 });
    rmSync(workDir, { recursive: true, force: true });
  });

  async function startVm(name: string): Promise<QemuProcess> {
    const vm = new QemuProcess(testVmSpec(workDir, name), { runner, sockets: new LocalUnixSockets(), binary: TEST_QEMU_BINARY, workDir });
    vms.push(vm);
    await vm.start();
    return vm;
  }

  it("lists another run's QEMU and files but not the current run's, then kills the stale one", async function () {
    const old = await startVm('hil-oldrun-src');
    const current = await startVm('hil-currun-src');
    // A pid file left by a VM that is long gone.
    writeFileSync(vmFiles(workDir, 'hil-deadrun-dst').pidFile, '999999\n');

    const report = await findStaleQemu(runner, workDir, { currentRunId: 'currun' });
    // Other engineers' labs may run hil- VMs on this machine too: look only at ours.
    const found = report.processes.find((p) => p.pid === old.pid);
    expect(found, JSON.stringify(report.processes.map((p) => p.vmName))).to.deep.include({ vmName: 'hil-oldrun-src', runId: 'oldrun' });
    expect(found?.argv[0]).to.equal(TEST_QEMU_BINARY);
    expect(found?.argv).to.include.members(['-name', 'guest=hil-oldrun-src', '-S']);
    expect(report.processes.map((p) => p.pid)).to.not.include(current.pid);
    expect(report.leftoverFiles).to.include.members([old.files.pidFile, old.files.qmpSocket, old.files.serialSocket, vmFiles(workDir, 'hil-deadrun-dst').pidFile]);
    expect(report.leftoverFiles).to.not.include(current.files.pidFile);

    const withoutRun = await findStaleQemu(runner, workDir);
    expect(withoutRun.processes.map((p) => p.pid)).to.include.members([old.pid, current.pid]);

    expect(await killStaleQemu(runner, found!)).to.equal('sigterm');
    expect(await old.isRunning()).to.equal(false);
    expect(await current.isRunning()).to.equal(true);
    expect(await killStaleQemu(runner, found!)).to.equal('already-exited');
  });
});
