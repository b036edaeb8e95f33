import { expect } from 'chai';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HostSpec, LabConfig } from '../harness/config/types.js';
import { preflightHost } from '../harness/host/preflightHost.js';
import { LocalRunner, runChecked } from '../harness/LocalRunner.js';
import { LocalUnixSockets } from '../harness/qemu/LocalUnixSockets.js';
import { probeVmProcess } from '../harness/qemu/probeVmProcess.js';
import type { UnixSocketOpener } from '../harness/qemu/openListeningSocket.js';
import { QemuProcess } from '../harness/qemu/QemuProcess.js';
import { findStaleQemu } from '../harness/qemu/staleQemu.js';
import { testVmSpec } from './support/testVmSpec.js';
import { TEST_QEMU_BINARY } from './support/spawnTestQemu.js';
import type { CommandRunner } from '../harness/runner.js';
import { SshTransport } from '../harness/ssh/SshTransport.js';
import { TestSshd } from './support/testSshd.js';
import { LabNetwork } from '../harness/virtual-lab/LabNetwork.js';
import type { LabLayout } from '../harness/virtual-lab/labLayout.js';
import { becomesTrue } from '../harness/waitFor.js';
import { Canary } from './support/Canary.js';
import { StubCommands } from './support/StubCommands.js';

/**
 * The schema keeps shell characters out of lab.yaml, but the proof that no value reaches a shell
 * unquoted must not lean on it: a relaxed pattern or a value from elsewhere must still arrive as
 * one literal word. So these tests build the records directly, bypassing the loader, with a
 * payload in every string that can reach a command, run the real command-building code over a
 * real shell, and check (1) that no injected command ran (the canary folder stays empty) and
 * (2) that the value was used literally (the folder, file, argv or argument exists verbatim).
 */
describe('shell safety: hostile lab values reach commands as literal words', function () {
  this.timeout(180_000);
  const canary = new Canary();
  const workBase = mkdtempSync('/tmp/hw-');
  let sshd: TestSshd;
  let transport: SshTransport;
  const vms: QemuProcess[] = [];

  before(async () => {
    sshd = await TestSshd.start();
    await sshd.writeKnownHosts();
    transport = new SshTransport(sshd.hostSpec(), { connectTimeoutMs: 10_000 });
    await transport.open();
  });

  afterEach(async () => {
    for (const vm of vms.splice(0)) await vm.stop({ quitTimeoutMs: 2_000, termTimeoutMs: 2_000, killTimeoutMs: 5_000 });
  });

  after(async () => {
    await transport?.close();
    await sshd?.stop();
    rmSync(workBase, { recursive: true, force: true });
    canary.remove();
    expect(await sshd.leftoverPids(), 'sshd processes left behind').to.deep.equal([]);
  });

  const targets: { readonly tag: string; readonly name: string; runner(): CommandRunner; sockets(): UnixSocketOpener }[] = [
    { tag: 'l', name: 'LocalRunner (/bin/sh)', runner: () => new LocalRunner(), sockets: () => new LocalUnixSockets() },
    { tag: 's', name: "SshTransport (the host's login shell)", runner: () => transport, sockets: () => transport },
  ];

  for (const target of targets) {
    describe(`through ${target.name}`, () => {
      it('preflight: a hostile workDir and QEMU binary reach mkdir, test and the facts script as one word each', async () => {
        for (const [i, payload] of canary.payloads().entries()) {
          const workDir = `${workBase}/${target.tag}w${i}${payload.text(`${target.tag}-preflight-workDir-${i}`)}`;
          const binary = `${workBase}/${target.tag}b${i}${payload.text(`${target.tag}-preflight-binary-${i}`)}`;
          // A stand-in QEMU at the hostile path: a version only comes back if "$q" named it exactly.
          mkdirSync(dirname(binary), { recursive: true });
          writeFileSync(binary, '#!/bin/sh\necho "QEMU emulator version 9.8.7"\n');
          chmodSync(binary, 0o755);

          const { lab, host } = labWith({ workDir, binary });
          const result = await preflightHost(lab, host, target.runner());

          expect(result.error, payload.technique).to.equal(null);
          expect(result.checks.find((check) => check.name === 'workDir')?.isOk, payload.technique).to.equal(true);
          expect(existsSync(workDir), `mkdir made ${JSON.stringify(workDir)} literally`).to.equal(true);
          expect(result.facts?.qemu.version, `${payload.technique}: the facts script ran ${JSON.stringify(binary)}`).to.equal('9.8.7');
        }
        expect(canary.tripped(`${target.tag}-preflight-`)).to.deep.equal([]);
      });

      it('QemuProcess: hostile workDir, binary, socket, serial log and trace paths reach QEMU verbatim and are probed, scanned, undone and removed literally', async () => {
        // Commas and line breaks cannot be in a QEMU option path: validateVmSpec refuses them first.
        for (const [i, payload] of canary.payloads({ without: /[,\n\r]/ }).entries()) {
          const workDir = `${workBase}/${target.tag}q${i}${payload.text(`${target.tag}-qemu-${i}`)}`;
          const binary = `${workDir}/qemu`;
          mkdirSync(workDir, { recursive: true });
          symlinkSync(TEST_QEMU_BINARY, binary);
          const runner = target.runner();
          const spec = testVmSpec(workDir, 'hil-s-a', {
            serialLogFile: `${workDir}/serial.log`,
            traces: { patterns: ['vfio_*'], file: `${workDir}/trace.log` },
          });
          const vm = new QemuProcess(spec, { runner, sockets: target.sockets(), binary, workDir });
          vms.push(vm);

          await vm.start();
          const cmdline = readFileSync(`/proc/${vm.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
          expect(cmdline, payload.technique).to.deep.equal([binary, ...vm.argv]);
          for (const file of [spec.qmpSocket, spec.serialSocket, spec.serialLogFile!, vm.files.pidFile]) {
            expect(existsSync(file), `${payload.technique}: ${JSON.stringify(file)}`).to.equal(true);
          }
          expect(await probeVmProcess(runner, { name: spec.name, pidFile: vm.files.pidFile, qmpSocket: spec.qmpSocket })).to.include({ pid: vm.pid, isAlive: true, hasQmpSocket: true });
          const stale = await findStaleQemu(runner, workDir);
          expect(stale.leftoverFiles, payload.technique).to.include.members([vm.files.pidFile, spec.qmpSocket, spec.serialSocket]);
          expect(stale.processes.map((process) => process.pid)).to.include(vm.pid);
          expect(await vm.readLog()).to.be.a('string');

          // The undo line a journal would hold kills this VM and removes its files, and only those.
          await runChecked(runner, vm.undoCommand);
          expect(await becomesTrue(async () => !(await vm.isRunning()), { timeoutMs: 10_000 }), payload.technique).to.equal(true);
          expect(existsSync(spec.qmpSocket) || existsSync(vm.files.pidFile), payload.technique).to.equal(false);
          expect((await vm.stop()).how).to.equal('already-exited');
        }
        expect(canary.tripped(`${target.tag}-qemu-`)).to.deep.equal([]);
      });
    });
  }

  it('LabNetwork: hostile names in every field of a layout reach ip and sysctl as whole arguments', async () => {
    const stubs = new StubCommands(['ip', 'sysctl']);
    try {
      for (const [i, payload] of canary.payloads().entries()) {
        const value = (field: string): string => `${field}${payload.text(`net-${field}-${i}`)}`;
        const layout = hostileLayout(value);
        await new LabNetwork(layout, stubs.runner()).up();
        const words = new Set(stubs.calls().flat());
        const host = layout.hosts[0]!;
        const expected = [
          layout.switchNamespace, layout.switchBridge, layout.switchBridgeMac, layout.controllerLink, layout.controllerPeer,
          layout.controllerAddressCidr, `net.ipv6.conf.${layout.controllerLink}.disable_ipv6=1`,
          host.namespace, host.bridge, host.bridgeMac, host.uplink, host.switchPort, host.addressCidr, ...host.taps,
        ];
        for (const word of expected) expect(words.has(word), `${payload.technique}: ${JSON.stringify(word)} as one argument`).to.equal(true);
      }
      expect(canary.tripped('net-')).to.deep.equal([]);
    } finally {
      stubs.remove();
    }
  });
});

/** A lab of one host, built as the loader would build it but with any values at all. */
function labWith(values: { readonly workDir: string; readonly binary: string }): { lab: LabConfig; host: HostSpec } {
  const host: HostSpec = {
    name: 'host-a', address: '127.0.0.1', port: 22, user: 'root', agent: false, trustOnFirstUse: false,
    workDir: values.workDir, migrationAddress: '127.0.0.1', qemu: 'default', allowLocalDevices: false, nics: [],
  };
  const lab: LabConfig = {
    file: '/dev/null', name: 'hostile', kind: 'physical', stateDir: '/nonexistent', reportsDir: '/nonexistent', cacheDir: '/nonexistent',
    hosts: { 'host-a': host }, pairs: [], qemu: { default: { name: 'default', binary: values.binary } }, guests: {},
    defaults: {
      timeouts: { sshConnectMs: 10_000, commandMs: 30_000, bootMs: 90_000, migrationMs: 120_000 },
      migration: { downtimeLimitMs: 300, maxBandwidthBytesPerSec: 1 << 30, port: 4446 },
      limits: { downtimeMs: 500, guestOutageMs: 2_000 },
      probe: { rateHz: 100 },
    },
  };
  return { lab, host };
}

/** Every name and address of a virtual lab layout made hostile by `value(field)`. */
function hostileLayout(value: (field: string) => string): LabLayout {
  return {
    prefix: value('prefix'), stateDir: value('state'), switchNamespace: value('swns'), switchBridge: value('swbr'),
    switchBridgeMac: value('swmac'), controllerLink: value('ctl'), controllerPeer: value('peer'), controllerAddress: value('addr'),
    controllerAddressCidr: value('cidr'), prefixLength: 24, authorizedKeysFile: value('keys'),
    hosts: [{
      hostName: value('host'), namespace: value('ns'), address: value('haddr'), addressCidr: value('hcidr'), sshPort: 22,
      bridge: value('br'), bridgeMac: value('brmac'), uplink: value('up'), switchPort: value('port'),
      taps: [value('tap0'), value('tap1')], workDir: value('work'), sshdDir: value('sshd'), homeDir: value('home'), user: value('user'),
    }],
  };
}
