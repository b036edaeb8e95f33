import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvironment } from '../config/environment.js';
import type { LabConfig } from '../config/types.js';
import { HostConnections } from '../host/HostConnections.js';
import { preflightLab } from '../host/preflightLab.js';
import { LocalRunner, runChecked } from '../LocalRunner.js';
import { SshTransport } from '../ssh/SshTransport.js';
import { bootL2InL1 } from './bootL2InL1.js';
import { migrateL2BetweenL1s } from './migrateL2BetweenL1s.js';
import { NestedLab } from './NestedLab.js';
import { nestedLabConfig } from '../../test/support/nestedLabFixture.js';
import { nestedLabGate } from '../../test/support/nestedLabGate.js';
import { waitForSshSessionsClosed } from './waitForSshSessionsClosed.js';
import { waitForUdpEcho, type UdpEchoReply } from '../virtual-lab/waitForUdpEcho.js';

const environment = readEnvironment();
const gate = nestedLabGate(environment);

// Its own prefix, subnet and state folder: the suite never stops a nested lab someone is using.
// The image caches are labs/nested.yaml's own, so `hil lab up --nested` and this stage share them;
// the suite leaves its L1 VMs down (the caches stay).
(gate.runs ? describe : describe.skip)(`NestedLab (nested-lab stage: ${gate.reason})`, function () {
  const config: LabConfig = nestedLabConfig({ prefix: 'nhilt', subnet: '10.232.9', stateDir: '.lab/nested-test' });
  const log: string[] = [];
  const runner = new LocalRunner();
  const lab = new NestedLab(config, runner, (line) => log.push(`${new Date().toISOString().slice(11, 19)} ${line}`), {
    cacheDir: join(nestedLabConfig().cacheDir, 'nested'),
  });
  const connections = new HostConnections(config, environment);

  before(async function () {
    this.timeout(40 * 60_000);
    await lab.up();
  });

  after(async function () {
    this.timeout(5 * 60_000);
    await connections.closeAll();
    await waitForSshSessionsClosed(runner, Object.values(config.hosts).map((h) => h.address));
    await lab.down();
    if (process.env['HIL_NESTED_LAB_LOG'] === '1') process.stderr.write(`${log.join('\n')}\n`);
  });

  it('builds the L1 image once: a second ensure is a no-op', async function () {
    this.timeout(60_000);
    const again = await lab.image.ensure();
    expect(again.isRebuilt).to.equal(false);
    // Its duration is printed by bench/nestedLab.ts ("L1 image ensure, cached (no-op)").
    expect(again.manifest.kernelRelease).to.match(/^6\.12\./);
  });

  it('brings both L1 hosts up, reachable over SSH with their host keys checked', async function () {
    this.timeout(120_000);
    for (const host of Object.values(config.hosts)) {
      const transport = await connections.open(host);
      const result = await runChecked(transport, 'hostname; uname -r; cat /sys/bus/pci/devices/0000:00:03.0/sriov_totalvfs');
      const [hostname, release, totalVfs] = result.stdout.trim().split('\n');
      expect(hostname).to.equal(host.name);
      expect(release).to.match(/^6\.12\./);
      expect(Number(totalVfs)).to.be.greaterThan(1);
    }
    // Another key pinned for the same address: the transport must refuse the L1.
    const host = config.hosts['host-a']!;
    const keyDir = mkdtempSync(join(tmpdir(), 'hil-nested-kh-'));
    const wrongKnownHosts = join(keyDir, 'known_hosts');
    writeFileSync(wrongKnownHosts, `${host.address} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1aq2bpsQ6Yw8m7sOtw7c0nF2gcv4s4DRZbG2u6wzD3\n`);
    const impostor = new SshTransport({ ...host, knownHosts: wrongKnownHosts }, { connectTimeoutMs: 20_000, commandTimeoutMs: 20_000 });
    const refusal = await impostor.open().then(() => 'connected', (error: unknown) => String(error));
    await impostor.close();
    rmSync(keyDir, { recursive: true, force: true });
    expect(refusal).to.match(/host key changed/);
  });

  it('preflight reports real VFIO: IOMMU groups, /dev/iommu, QEMU with iommufd, and the capabilities from facts', async function () {
    this.timeout(180_000);
    for (const build of ['qemu-10', 'qemu-11']) {
      const variant: LabConfig = { ...config, hosts: Object.fromEntries(Object.entries(config.hosts).map(([name, h]) => [name, { ...h, qemu: build }])) };
      const report = await preflightLab(variant, connections);
      for (const host of report.hosts) {
        const facts = host.facts!;
        expect(host.isReachable, `${host.host}: ${host.error?.join(' / ')}`).to.equal(true);
        expect(facts.iommu.groupCount, host.host).to.be.greaterThan(3);
        expect(facts.hasDevIommu, host.host).to.equal(true);
        expect(facts.qemu.version, `${host.host} ${build}`).to.match(build === 'qemu-10' ? /^10\.0\./ : /^11\.1\./);
        expect(facts.qemu.hasIommufdObject).to.equal(true);
        const caps = Object.fromEntries(host.capabilities.map((c) => [c.capability, c]));
        for (const present of ['vfio', 'iommufd', 'viommu', 'sriov', 'mdev', 'mdev-migration', 'kvm'] as const) {
          expect(caps[present]?.isPresent, `${host.host}: ${present}: ${caps[present]?.reason}`).to.equal(true);
        }
        expect(caps['iommu-dirty-tracking']?.isPresent, `${host.host}: emulated VT-d has no dirty tracking`).to.equal(false);
        expect(host.checks.filter((c) => !c.isOk).map((c) => `${c.name}: ${c.detail}`)).to.deep.equal([]);
      }
    }
  });

  it('supports plain SR-IOV: two VFs, one bound to vfio-pci through driver_override, with its own group and cdev', async function () {
    this.timeout(180_000);
    const host = config.hosts['host-b']!;
    const transport = await connections.open(host);
    const pf = '/sys/bus/pci/devices/0000:00:03.0';
    try {
      // No autoprobe: igbvf would otherwise bind each VF as it appears, racing the unbind below.
      await runChecked(transport, `echo 0 > ${pf}/sriov_numvfs && echo 0 > ${pf}/sriov_drivers_autoprobe && echo 2 > ${pf}/sriov_numvfs`);
      const vfs = (await runChecked(transport, `for v in ${pf}/virtfn*; do basename "$(readlink "$v")"; done`)).stdout.trim().split('\n');
      expect(vfs).to.deep.equal(['0000:00:13.0', '0000:00:13.2']);
      const vf = vfs[0]!;
      const dev = `/sys/bus/pci/devices/${vf}`;
      await runChecked(transport, `echo vfio-pci > ${dev}/driver_override && echo ${vf} > /sys/bus/pci/drivers/vfio-pci/bind`);
      const seen = (await runChecked(transport, `basename "$(readlink ${dev}/driver)"; basename "$(readlink ${dev}/iommu_group)"; basename "$(readlink ${pf}/iommu_group)"; ls ${dev}/vfio-dev; ls /dev/vfio/devices`)).stdout.trim().split('\n');
      const [driver, vfGroup, pfGroup, cdev, ...cdevs] = seen;
      expect(driver).to.equal('vfio-pci');
      expect(vfGroup).to.not.equal(pfGroup);
      expect(cdev).to.match(/^vfio\d+$/);
      expect(cdevs).to.include(cdev);
      const report = await preflightLab(config, connections, ['host-b']);
      expect(report.hosts[0]!.facts!.vfioCdevs).to.include(cdev);
      expect(report.hosts[0]!.facts!.pciFunctions.find((f) => f.address === vf)?.driver).to.equal('vfio-pci');
    } finally {
      await transport.run(`echo 0 > ${pf}/sriov_numvfs; echo 1 > ${pf}/sriov_drivers_autoprobe`);
    }
  });

  it('boots an L2 guest with -accel kvm inside an L1: ready on its serial console, answering UDP from the controller through the L1 bridge', async function () {
    this.timeout(300_000);
    const host = config.hosts['host-a']!;
    const guest = config.guests['default']!;
    const transport = await connections.open(host);
    let echo: UdpEchoReply | undefined;
    const boot = await bootL2InL1(transport, guest, {
      workDir: host.workDir, accelerator: 'kvm', timeoutMs: 240_000,
      network: { tap: 'l2tap0', mac: '52:54:00:a2:00:01' },
      whileRunning: async () => {
        echo = await waitForUdpEcho({ address: guest.address, port: guest.echoPort }, { timeoutMs: 60_000, intervalMs: 200 });
      },
    });
    log.push(`L2 with kvm in L1 ready after ${boot.readyMs} ms; UDP echo round trip ${echo?.roundTripMs.toFixed(1)} ms`);
    expect(boot.consoleTail).to.include('hil: ready');
    expect(echo?.roundTripMs).to.be.a('number');
  });

  it('live-migrates an L2 (kvm in both L1s) from one L1 to the other over the lab network; it keeps answering', async function () {
    this.timeout(600_000);
    const [source, destination] = [config.hosts['host-a']!, config.hosts['host-b']!];
    const guest = config.guests['default']!;
    const echoes: Record<string, UdpEchoReply> = {};
    const result = await migrateL2BetweenL1s(
      { transport: await connections.open(source), workDir: source.workDir },
      { transport: await connections.open(destination), workDir: destination.workDir },
      guest,
      {
        destinationAddress: destination.migrationAddress, port: config.defaults.migration.port,
        network: { tap: 'l2tap1', mac: '52:54:00:a2:00:02' }, bootTimeoutMs: 240_000, migrationTimeoutMs: 300_000,
        probe: async (phase) => {
          echoes[phase] = await waitForUdpEcho({ address: guest.address, port: guest.echoPort }, { timeoutMs: 60_000, intervalMs: 200 });
        },
      },
    );
    log.push(`L2 migration host-a -> host-b: ${result.status}, total ${result.totalTimeMs} ms, downtime ${result.downtimeMs} ms; echo after ${echoes['after']?.elapsedMs} ms`);
    expect(result.status).to.equal('completed');
    expect(result.destinationStatus).to.equal('running');
    expect(echoes['after']?.roundTripMs).to.be.a('number');
  });
});
