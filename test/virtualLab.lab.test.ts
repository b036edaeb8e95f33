/**
 * The transport, preflight, QMP and console against the virtual lab itself: its real sshds in
 * their namespaces, real QEMU on a lab host, the guest's serial console. Needs `hil lab up`
 * (scripts/test.sh does it first).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvironment } from '../harness/config/environment.js';
import { loadLab } from '../harness/config/loadLab.js';
import type { LabConfig } from '../harness/config/types.js';
import { HarnessError } from '../harness/errors.js';
import { HostConnections } from '../harness/host/HostConnections.js';
import { preflightLab } from '../harness/host/preflightLab.js';
import { readBootId } from '../harness/guest/readBootId.js';
import { projectRoot } from '../harness/projectRoot.js';
import { QmpCommandError, QmpDisconnectedError } from '../harness/qmp/errors.js';
import { LabSession } from '../harness/session/LabSession.js';
import { TestScope } from '../harness/session/TestScope.js';
import { SshTransport } from '../harness/ssh/SshTransport.js';

describe('virtual lab, end to end', function () {
  this.timeout(180_000);
  let lab: LabConfig;
  let dir: string;
  before(() => {
    lab = loadLab(join(projectRoot(), 'lab.yaml'));
    dir = mkdtempSync(join(tmpdir(), 'hil-labtest-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('SSH transport against the lab hosts', () => {
    it('runs commands inside the host namespace with exit codes, and forwards to a unix socket there', async () => {
      const host = lab.hosts['host-a']!;
      const ssh = new SshTransport(host);
      await ssh.open();
      try {
        const ip = await ssh.run('ip -4 -o addr show');
        expect(ip.stdout).to.contain(host.address);
        expect((await ssh.run('exit 5')).exitCode).to.equal(5);
        const socketPath = join(host.workDir, 'echo.sock');
        const echo = await ssh.spawn(`exec socat UNIX-LISTEN:${socketPath},fork EXEC:cat`);
        await ssh.run(`for i in $(seq 50); do [ -S ${socketPath} ] && exit 0; sleep 0.1; done; exit 1`);
        const stream = await ssh.openUnixSocket(socketPath);
        const echoed = new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString())));
        stream.write('through the forward\n');
        expect(await echoed).to.equal('through the forward\n');
        stream.destroy();
        await echo.kill('TERM');
        await ssh.run(`rm -f ${socketPath}`);
      } finally {
        await ssh.close();
      }
    });

    it('refuses a host whose key changed, naming the known_hosts line and the fix', async () => {
      const host = lab.hosts['host-b']!;
      const otherKey = readFileSync(host.knownHosts!, 'utf8').split('\n').find((l) => l.startsWith(`${lab.hosts['host-a']!.address} `))!;
      const forged = join(dir, 'known_hosts');
      writeFileSync(forged, `${host.address} ${otherKey.split(' ').slice(1).join(' ')}\n`);
      const ssh = new SshTransport({ ...host, knownHosts: forged });
      const error = await ssh.open().then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(HarnessError);
      expect((error as HarnessError).code).to.equal('SSH_HOSTKEY_CHANGED');
      expect((error as Error).message).to.match(new RegExp(`root@${host.address.replace(/\./g, '\\.')}:22.*host key changed.*${forged.replace(/[/.]/g, '.')}:1.*ssh-keygen -R`));
      await ssh.close();
    });

    it('reconnects after the host drops the connection, for commands safe to repeat', async () => {
      const ssh = new SshTransport(lab.hosts['host-a']!);
      await ssh.open();
      try {
        // Kill this session's sshd process on the host: the connection drops from the far side.
        const dropped = await ssh.run('kill -9 $PPID', { timeoutMs: 5000 }).then(() => null, (e: unknown) => e);
        expect((dropped as HarnessError | null)?.code).to.equal('SSH_DISCONNECTED');
        const again = await ssh.run('echo back', { idempotent: true });
        expect(again.stdout.trim()).to.equal('back');
      } finally {
        await ssh.close();
      }
    });
  });

  it('preflight reads both hosts: kernel, QEMU, taps, clock, capabilities', async () => {
    const connections = new HostConnections(lab, readEnvironment());
    try {
      const report = await preflightLab(lab, connections);
      expect(report.isReady, JSON.stringify(report.hosts.map((h) => h.checks))).to.equal(true);
      const kernel = execFileSync('uname', ['-r']).toString().trim();
      for (const host of report.hosts) {
        expect(host.facts?.kernelRelease).to.equal(kernel);
        expect(host.facts?.netdevs.map((n) => n.name)).to.include('hil-tap0');
        expect(host.facts?.qemu.version).to.match(/^\d+\.\d+/);
        expect(Math.abs(host.facts!.clock.offsetMs)).to.be.lessThan(host.facts!.clock.uncertaintyMs + 2);
        const caps = Object.fromEntries(host.capabilities.map((c) => [c.capability, c.isPresent]));
        expect(caps).to.include({ 'emulated-nic': true, viommu: true, vfio: false, iommufd: false });
      }
    } finally {
      await connections.closeAll();
    }
  });

  describe('a VM on a lab host', () => {
    let session: LabSession;
    let scope: TestScope;
    before(async () => {
      session = await LabSession.open({ lab, environment: readEnvironment(), runId: `t${process.pid}`, runDir: dir });
    });
    beforeEach(() => { scope = new TestScope('lab test', dir, 'artifacts'); });
    afterEach(async () => { await scope.teardown.run(); });
    after(async () => { await session.close(); });

    it('QMP over the SSH forward: greeting, a command error, events, and a disconnect that rejects', async () => {
      const vm = await session.launchVm(scope, { host: 'host-a', role: 'qmp' });
      expect(vm.qmp.qemuVersion.major).to.be.at.least(7);
      const error = await vm.qmp.execute('no-such-command').then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(QmpCommandError);
      expect((error as Error).message).to.contain('no-such-command');
      const stopped = vm.qmp.waitForEvent('STOP', { timeoutMs: 10_000 });
      await vm.qmp.execute('stop');
      expect((await stopped).name).to.equal('STOP');
      const resumed = vm.qmp.waitForEvent('RESUME', { timeoutMs: 10_000 });
      await vm.qmp.execute('cont');
      await resumed;
      const pending = vm.qmp.execute('query-status', undefined, { timeoutMs: 30_000 });
      const lost = vm.qmp.waitForEvent('NEVER', { timeoutMs: 30_000 });
      await session.hostRunner('host-a').run(`kill -9 ${vm.process.pid}`);
      const outcomes = await Promise.allSettled([pending, lost.asPromise()]);
      // The pending call may have been answered before the kill; the waiter cannot have been.
      expect(outcomes[1].status).to.equal('rejected');
      expect((outcomes[1] as PromiseRejectedResult).reason).to.be.instanceOf(QmpDisconnectedError);
    });

    it('the guest console runs commands with their exit codes', async () => {
      const vm = await session.launchVm(scope, { host: 'host-b', role: 'console' });
      const probe = await session.startProbe(scope);
      await probe.waitForReply(lab.defaults.timeouts.bootMs);
      const guest = vm.openConsole();
      expect(await readBootId(guest)).to.match(/^[0-9a-f-]{36}$/);
      expect((await guest.run('false')).exitCode).to.equal(1);
      const uname = await guest.run('uname -r');
      expect(uname.exitCode).to.equal(0);
      expect(uname.stdout.trim().split('\n').pop()).to.match(/^\d+\.\d+/);
    });
  });
});
