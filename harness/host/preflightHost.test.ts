import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { LocalRunner } from '../LocalRunner.js';
import type { HostSpec } from '../config/types.js';
import { deriveCapabilities } from './capabilities.js';
import { factsScript } from './factsScript.js';
import { spawn } from 'node:child_process';
import { CLOCK_LOOP_COMMAND, execClockReader, measureClockOffset, streamingClockReader } from './measureClockOffset.js';
import { compareVersions, parseFacts } from './parseFacts.js';

const host: HostSpec = {
  name: 'local', address: '127.0.0.1', port: 22, user: 'root', agent: false, trustOnFirstUse: false,
  workDir: '/tmp/hil-preflight-test', migrationAddress: '127.0.0.1', qemu: 'default', allowLocalDevices: false,
  nics: [{ kind: 'emulated', name: 'nic0', model: 'virtio-net-pci', tap: 'hil-tap0', mac: '52:54:00:00:00:01' }],
};

describe('preflight facts', () => {
  it('reads the kernel, QEMU version and properties of a real machine in one script', async () => {
    const runner = new LocalRunner();
    const result = await runner.run(factsScript('/usr/bin/qemu-system-x86_64', '/tmp/hil-preflight-test'));
    expect(result.exitCode).to.equal(0);
    const facts = parseFacts('local', '/usr/bin/qemu-system-x86_64', result.stdout, { offsetMs: 0, uncertaintyMs: 0, samples: 1 });
    expect(facts.kernelRelease).to.equal(execFileSync('uname', ['-r']).toString().trim());
    const qemuLine = execFileSync('/usr/bin/qemu-system-x86_64', ['-version']).toString().split('\n')[0];
    expect(facts.qemu.versionLine).to.equal(qemuLine);
    expect(facts.qemu.version).to.match(/^\d+\.\d+/);
    expect(facts.qemu.vfioPciProperties).to.include('enable-migration');
    expect(facts.qemu.nicModels).to.include('virtio-net-pci');
    expect(facts.memTotalMiB).to.be.greaterThan(0);
    const caps = deriveCapabilities(host, facts);
    // This machine has no IOMMU: vfio must be absent and say why.
    const vfio = caps.find((c) => c.capability === 'vfio');
    expect(vfio?.isPresent).to.equal(false);
    expect(vfio?.reason).to.match(/no IOMMU/);
    expect(caps.find((c) => c.capability === 'viommu')?.isPresent).to.equal(true);
  });

  it('parses PCI functions, SR-IOV counts and Intel dirty-tracking bits', () => {
    const text = [
      // SMTS (43), SLADS (45), SMPWC (48) set.
      'kernel\t6.12.0', 'cmdline\tintel_iommu=on,sm_on', `iommu.unit\tdmar0|${((1n << 43n) | (1n << 45n) | (1n << 48n)).toString(16)}|`, 'iommu.groups\t12',
      'pci\t0000:3b:00.0|mlx5_core|7|8|2|enp59s0f0,', 'pci\t0000:3b:00.2|vfio-pci|9|||',
      'module.available\tvfio_pci', 'module.available\tmlx5_vfio_pci', 'dev.iommu\tyes', 'vfio.entry\t9', 'vfio.entry\tvfio',
      'qemu.version\tQEMU emulator version 11.1.3 (Debian)', 'qemu.iommufd\tyes', 'mem\t1024000 512000',
    ].join('\n');
    const facts = parseFacts('h', '/q', text, { offsetMs: 1, uncertaintyMs: 0.5, samples: 3 });
    expect(facts.pciFunctions[0]).to.deep.equal({ address: '0000:3b:00.0', driver: 'mlx5_core', iommuGroup: 7, sriovTotalVfs: 8, sriovNumVfs: 2, netdevs: ['enp59s0f0'] });
    expect(facts.pciFunctions[1]?.sriovTotalVfs).to.equal(null);
    expect(facts.qemu.version).to.equal('11.1.3');
    expect(facts.memAvailableMiB).to.equal(500);
    const vfHost: HostSpec = { ...host, nics: [{ kind: 'vf', name: 'vf0', pf: '0000:3b:00.0', pfDriver: 'mlx5_core', numVfs: 2, vfIndex: 0, vfioDriver: 'mlx5_vfio_pci' }] };
    const caps = Object.fromEntries(deriveCapabilities(vfHost, facts).map((c) => [c.capability, c.isPresent]));
    expect(caps).to.include({ vfio: true, iommufd: true, sriov: true, 'variant-driver': true, 'iommu-dirty-tracking': true });
    const noSm = parseFacts('h', '/q', text.replace(',sm_on', ''), facts.clock);
    expect(deriveCapabilities(vfHost, noSm).find((c) => c.capability === 'iommu-dirty-tracking')?.isPresent).to.equal(false);
  });

  it('measures the clock offset of a host sharing our clock as near zero', async () => {
    const clock = await measureClockOffset(execClockReader(new LocalRunner()), 3);
    expect(Math.abs(clock.offsetMs)).to.be.lessThan(clock.uncertaintyMs + 5);
    const child = spawn('/bin/sh', ['-c', CLOCK_LOOP_COMMAND]);
    const reader = streamingClockReader({ stdin: child.stdin, stdout: child.stdout, kill: async () => child.kill() }, 'local loop');
    const streamed = await measureClockOffset(reader, 5).finally(() => reader.close());
    expect(streamed.samples).to.equal(5);
    expect(Math.abs(streamed.offsetMs)).to.be.lessThan(streamed.uncertaintyMs + 1);
  });

  it('compares versions numerically', () => {
    expect(compareVersions('10.0.2', '7.2')).to.be.greaterThan(0);
    expect(compareVersions('7.2', '7.2.0')).to.equal(0);
    expect(compareVersions('9.1', '10.0')).to.be.lessThan(0);
  });

  it('gives mdev-migration only to an mtty parent on Linux 6.7 or later', () => {
    const mttyHost: HostSpec = { ...host, nics: [{ kind: 'mdev', name: 'mtty0', parent: 'mtty', type: 'mtty-2', uuid: '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001' }] };
    const migration = (kernel: string, parent: string) => {
      const facts = parseFacts('h', '/q', [`kernel\t${kernel}`, `mdev.parent\t${parent}`, 'module.available\tmtty'].join('\n'), { offsetMs: 0, uncertaintyMs: 0, samples: 1 });
      return deriveCapabilities(mttyHost, facts).find((c) => c.capability === 'mdev-migration');
    };
    expect(migration('6.12.117+deb13-amd64', 'mtty')?.isPresent).to.equal(true);
    expect(migration('6.1.0-56-amd64', 'mtty')).to.include({ isPresent: false, reason: "Linux 6.1's mtty cannot migrate (needs 6.7)" });
    expect(migration('6.12.117+deb13-amd64', 'mbochs')?.isPresent).to.equal(false);
  });
});
