import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner, runChecked } from '../LocalRunner.js';
import { sh } from '../shell.js';
import { HOST_TCP_BUFFERS, readTcpBuffers, setTcpBuffersCommand } from './LabNetwork.js';
import { labYamlConfig } from './labConfigFixture.js';
import { processArgv } from './processes.js';
import { SmokeVm } from './SmokeVm.js';
import { VirtualLab } from './VirtualLab.js';
import { waitForUdpEcho } from './waitForUdpEcho.js';

// Its own prefix and subnet: the test never touches a `hil` lab someone else is using.
const PREFIX = 'hilt';
const SUBNET = '10.231.9';

interface LabSnapshot {
  readonly namespaces: string[];
  /** "<namespace>/<ifname>#<ifindex>" for every interface in the lab's namespaces and root links. */
  readonly links: string[];
  readonly pids: number[];
}

describe('VirtualLab (root: namespaces, sshd, QEMU)', function () {
  const runner = new LocalRunner();
  const stateDir = mkdtempSync(join(tmpdir(), 'hil-lab-test-'));
  const config = labYamlConfig({ stateDir, prefix: PREFIX, subnet: SUBNET });
  const log: string[] = [];
  const lab = new VirtualLab(config, runner, (line) => log.push(line));
  let smokeVm: SmokeVm | undefined;

  const labNamespaces = async (): Promise<string[]> =>
    (await runChecked(runner, 'ip netns list')).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`${PREFIX}-`)).sort();

  const snapshot = async (): Promise<LabSnapshot> => {
    const namespaces = await labNamespaces();
    const links: string[] = [];
    for (const ns of ['', ...namespaces]) {
      const out = (await runChecked(runner, ns === '' ? 'ip -o link show' : sh`ip -n ${ns} -o link show`)).stdout;
      for (const match of out.matchAll(/^(\d+): ([^:@]+)/gm)) {
        if (ns !== '' || match[2]!.startsWith(`${PREFIX}-`)) links.push(`${ns}/${match[2]}#${match[1]}`);
      }
    }
    const pids = (await lab.labProcesses()).map((p) => p.pid).sort((a, b) => a - b);
    return { namespaces, links: links.sort(), pids };
  };

  /** Live processes that belong to this lab: every one of them names a file under stateDir. */
  const leftoverProcesses = (): string[] =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((p) => (processArgv(Number(p)) ?? []).join(' '))
      .filter((cmd) => cmd.includes(stateDir));

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    await lab.down();
  });

  after(async function () {
    await smokeVm?.stop();
    if (process.getuid?.() === 0) await lab.down({ purge: true });
  });

  it('comes up from nothing: namespaces, healthy links, sshds answering in their own namespace', async () => {
    expect(await labNamespaces()).to.deep.equal([]);
    const result = await lab.up();
    expect(result.networkSteps).to.be.greaterThan(0);
    expect(result.sshdsStarted).to.have.members(['host-a', 'host-b']);
    expect(result.guestImages).to.have.length(1);

    const status = await lab.status();
    expect(status.isUp).to.equal(true);
    expect(status.network.namespaces.map((n) => n.name)).to.deep.equal([`${PREFIX}-sw`, `${PREFIX}-host-a`, `${PREFIX}-host-b`]);
    expect(status.network.links.filter((l) => !l.isHealthy)).to.deep.equal([]);
    expect(status.sshds.map((s) => s.banner)).to.satisfy((banners: string[]) => banners.every((b) => b.startsWith('SSH-2.0-OpenSSH')));
    expect(status.guestImages[0]?.isPresent).to.equal(true);
    expect(status.qemu.version).to.match(/^\d+\.\d+/);
    for (const host of lab.layout.hosts) expect(await readTcpBuffers(runner, host.namespace), `TCP buffers of ${host.namespace}`).to.deep.equal(HOST_TCP_BUFFERS);

    // Key, known_hosts and sshd together: a strict ssh login lands in the host's namespace, in
    // the host's own home rather than the controller's.
    for (const host of lab.layout.hosts) {
      const spec = config.hosts[host.hostName]!;
      const login = await runChecked(
        runner,
        sh`ssh -i ${spec.identityFile!} -o UserKnownHostsFile=${spec.knownHosts!} -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5 ${`root@${host.address}`} ${'stat -L -c %i /proc/self/ns/net ~'}`,
      );
      const [netnsInode, homeInode] = login.stdout.trim().split('\n').map(Number);
      expect(netnsInode).to.equal(statSync(`/run/netns/${host.namespace}`).ino, `ssh to ${host.address} should run in namespace ${host.namespace}`);
      expect(homeInode).to.equal(statSync(host.homeDir).ino, `ssh to ${host.address} should have ${host.homeDir} as its home`);
    }
  });

  // How long this takes is printed by bench/labUp.ts ("lab up again, already up").
  it('comes up a second time without changing anything', async () => {
    const before = await snapshot();
    const result = await lab.up();
    const after = await snapshot();
    expect(result.networkSteps).to.equal(0);
    expect(result.sshdsStarted).to.deep.equal([]);
    expect(result.guestImages[0]?.isRebuilt).to.equal(false);
    expect(after).to.deep.equal(before);
  });

  it('sets a host namespace\'s TCP buffers back on the next up when they were changed', async () => {
    const hostB = lab.layout.hosts[1]!;
    await runChecked(runner, setTcpBuffersCommand(hostB.namespace, { ...HOST_TCP_BUFFERS, 'net.ipv4.tcp_rmem': '4096 131072 33554432' }));
    const result = await lab.up();
    expect(result.networkSteps).to.equal(1, 'one sysctl');
    expect(await readTcpBuffers(runner, hostB.namespace)).to.deep.equal(HOST_TCP_BUFFERS);
  });

  it('repairs a deleted tap and a killed sshd on the next up', async () => {
    const hostA = lab.layout.hosts[0]!;
    await runChecked(runner, sh`ip -n ${hostA.namespace} link del ${hostA.taps[1]!}`);
    const sshdB = (await lab.status()).sshds[1]!.pid!;
    process.kill(sshdB, 'SIGKILL');
    expect((await lab.status()).isUp).to.equal(false);
    const result = await lab.up();
    expect(result.sshdsStarted).to.deep.equal(['host-b']);
    expect(result.networkSteps).to.equal(2, 'tuntap add + enslave');
    expect((await lab.status()).isUp).to.equal(true);
  });

  it('boots the guest image in a host namespace, and the guest answers UDP from the controller', async () => {
    const guest = config.guests['default']!;
    const hostA = lab.layout.hosts[0]!;
    smokeVm = SmokeVm.start({
      qemuBinary: config.qemu['default']!.binary,
      namespace: hostA.namespace,
      tap: hostA.taps[0]!,
      mac: '52:54:00:23:10:64',
      kernel: guest.kernel!,
      initrd: guest.initrd!,
      append: guest.append!,
      memoryMiB: guest.memoryMiB,
      cpus: guest.cpus,
      logFile: join(stateDir, 'smoke', 'qemu.log'),
      serialFile: join(stateDir, 'smoke', 'serial.log'),
    });
    const reply = await waitForUdpEcho({ address: guest.address, port: guest.echoPort }, { timeoutMs: config.defaults.timeouts.bootMs }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${smokeVm?.describe()}`);
    });
    // The reply matched a sent nonce byte for byte; its round trip (a booting guest under TCG: over
    // a second seen in CI) is a figure for bench/labUp.ts, not a bound.
    expect(reply.datagramsSent).to.be.at.least(1);
    const serial = readFileSync(join(stateDir, 'smoke', 'serial.log'), 'utf8');
    expect(serial).to.match(/hil: boot_id [0-9a-f-]{36}/);
    expect(serial).to.include('hil: ready');
    // Left running on purpose: `down` must find and stop it.
    expect((await lab.status()).processes.map((p) => p.pid)).to.include(smokeVm.pid);
  });

  it('goes down leaving no namespace, link, process or mount behind, and keeps the caches', async () => {
    const result = await lab.down();
    expect(result.stopped.map((p) => p.pid)).to.include(smokeVm!.pid);
    expect(await labNamespaces()).to.deep.equal([]);
    const rootLinks = (await runChecked(runner, 'ip -o link show')).stdout.split('\n').filter((l) => l.includes(` ${PREFIX}-`));
    expect(rootLinks).to.deep.equal([]);
    expect(leftoverProcesses()).to.deep.equal([]);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/run/netns/${PREFIX}-`));
    expect(mounts).to.deep.equal([]);
    expect((await lab.status()).isUp).to.equal(false);
    expect(existsSync(config.guests['default']!.initrd!)).to.equal(true);
    expect(existsSync(config.hosts['host-a']!.identityFile!)).to.equal(true);
  });
});
