import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { insertAfter, minimalLab, replaceLine } from '../../test/support/labFixture.js';
import { loadLab, parseLab } from './loadLab.js';

/** The checkout this test runs from (it runs compiled, from dist/). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('no package.json above the test file');
    dir = parent;
  }
  return dir;
}

describe('loadLab', () => {
  const root = repoRoot();

  it('loads the default lab.yaml: the virtual lab', () => {
    const lab = loadLab(path.join(root, 'lab.yaml'));
    expect(lab.kind).to.equal('virtual');
    expect(lab.file).to.equal(path.join(root, 'lab.yaml'));
    expect(lab.stateDir).to.equal(path.join(root, '.lab'));
    expect(lab.reportsDir).to.equal(path.join(root, 'reports'));
    expect(Object.keys(lab.hosts)).to.deep.equal(['host-a', 'host-b']);
    expect(lab.hosts['host-a']).to.deep.include({
      name: 'host-a',
      port: 22,
      agent: false,
      identityFile: path.join(root, '.lab/ssh/id_ed25519'),
      knownHosts: path.join(root, '.lab/ssh/known_hosts'),
      workDir: path.join(root, '.lab/hosts/host-a'),
      qemu: 'default',
    });
    expect(lab.hosts['host-a']?.nics).to.deep.equal([
      { kind: 'emulated', name: 'nic0', model: 'virtio-net-pci', tap: 'hil-tap0', mac: '52:54:00:23:10:64' },
    ]);
    expect(lab.virtualLab).to.deep.equal({
      prefix: 'hil',
      controllerAddress: '10.231.0.1/24',
      guestKernelFlavour: 'cloud',
      tapsPerHost: 2,
    });
    expect(lab.guests['default']?.kernel).to.equal(path.join(root, '.lab/guest/vmlinuz'));
  });

  it('loads the physical example with its VFs, jump host and three QEMU builds (one from source)', () => {
    const lab = loadLab(path.join(root, 'labs/physical.example.yaml'));
    expect(lab.kind).to.equal('physical');
    expect(lab.virtualLab).to.equal(undefined);
    const host = lab.hosts['cx7-a'];
    expect(host?.nics[0]).to.deep.equal({
      kind: 'vf',
      name: 'vf0',
      pf: '0000:3b:00.0',
      pfDriver: 'mlx5_core',
      numVfs: 4,
      vfIndex: 0,
      vfioDriver: 'mlx5_vfio_pci',
      restoreDriver: 'mlx5_core',
      netdev: 'enp59s0f0np0',
    });
    expect(host?.jump).to.equal('hil@bastion.lab.example.net:22');
    expect(host?.migrationAddress).to.not.equal(host?.address);
    expect(host?.workDir).to.equal('/var/lib/vfio-hil');
    expect(lab.hosts['cx7-b']?.hostKey).to.match(/^SHA256:/);
    expect(Object.keys(lab.qemu)).to.deep.equal(['distro-10', 'upstream-11', 'series-nofix']);
    // The source build is made on the hosts and installed under its prefix there.
    expect(lab.qemu['series-nofix']?.source?.buildOn).to.equal('hosts');
    expect(lab.qemu['series-nofix']?.binary).to.equal('/opt/vfio-hil/series-nofix/bin/qemu-system-x86_64');
    expect(lab.guests['default']?.disk).to.equal(path.join(root, 'labs/images/bookworm-vfio-guest.qcow2'));
    expect(lab.pairs.map((pair) => pair.name)).to.deep.equal(['a-to-b', 'b-to-a']);
  });
});

describe('parseLab', () => {
  it('fills every default of a lab that sets none', () => {
    const lab = parseLab(minimalLab(), '/labs/min.yaml');
    expect(lab.defaults).to.deep.equal({
      timeouts: { sshConnectMs: 10000, commandMs: 60000, bootMs: 90000, migrationMs: 120000 },
      migration: { downtimeLimitMs: 300, maxBandwidthBytesPerSec: 1073741824, port: 4446 },
      limits: { downtimeMs: 500, guestOutageMs: 2000 },
      probe: { rateHz: 100 },
    });
    expect(lab.stateDir).to.equal('/labs/.lab');
    expect(lab.reportsDir).to.equal('/labs/reports');
    expect(lab.hosts['host-a']).to.deep.equal({
      name: 'host-a',
      address: '10.0.0.11',
      port: 22,
      user: 'root',
      identityFile: '/labs/id',
      agent: false,
      knownHosts: '/labs/known_hosts',
      trustOnFirstUse: false,
      workDir: '/var/lib/hil',
      migrationAddress: '10.0.0.11',
      qemu: 'default',
      nics: [
        { kind: 'vf', name: 'nic0', pf: '0000:3b:00.0', pfDriver: 'mlx5_core', numVfs: 2, vfIndex: 0, vfioDriver: 'vfio-pci' },
      ],
      allowLocalDevices: false,
    });
    expect(lab.guests['default']).to.deep.equal({
      name: 'default',
      kernel: '/labs/vmlinuz',
      memoryMiB: 256,
      cpus: 1,
      address: '10.0.0.100',
      echoPort: 7777,
    });
    expect(lab.qemu['default']).to.deep.equal({ name: 'default', binary: '/usr/bin/qemu-system-x86_64' });
  });

  it('keeps defaults a lab sets partly, and fills the rest', () => {
    const lab = parseLab(minimalLab(insertAfter(30, 'defaults:\n  probe:\n    rateHz: 250\n  timeouts:\n    bootMs: 5000')), '/l/lab.yaml');
    expect(lab.defaults.probe.rateHz).to.equal(250);
    expect(lab.defaults.timeouts).to.deep.equal({ sshConnectMs: 10000, commandMs: 60000, bootMs: 5000, migrationMs: 120000 });
  });

  it('resolves relative controller paths against the lab file, not the working directory', () => {
    const lab = parseLab(minimalLab(), 'some/dir/lab.yaml');
    expect(lab.file).to.equal(path.resolve('some/dir/lab.yaml'));
    expect(lab.hosts['host-a']?.identityFile).to.equal(path.resolve('some/dir/id'));
  });

  it('resolves a relative workDir against the lab file in a virtual lab only', () => {
    const text = minimalLab(
      replaceLine(3, '  kind: virtual\nvirtualLab: { prefix: hil, controllerAddress: 10.0.0.1/24, guestKernelFlavour: cloud, tapsPerHost: 1 }'),
      replaceLine(17, '    workDir: hosts/b'),
    );
    const lab = parseLab(text, '/srv/lab/lab.yaml');
    expect(lab.hosts['host-b']?.workDir).to.equal('/srv/lab/hosts/b');
    expect(lab.hosts['host-a']?.workDir).to.equal('/var/lib/hil');
  });

  it('builds mdev and emulated NICs with their kind', () => {
    const text = minimalLab(
      replaceLine(18, [
        '    nics:',
        '      - name: nic0',
        '        emulated: { model: e1000e, tap: hil-tap1, mac: "52:54:00:00:00:01" }',
        '      - name: tty0',
        '        mdev: { parent: mtty, type: mtty-2, uuid: 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 }',
      ].join('\n')),
    );
    expect(parseLab(text, '/l/lab.yaml').hosts['host-b']?.nics).to.deep.equal([
      { kind: 'emulated', name: 'nic0', model: 'e1000e', tap: 'hil-tap1', mac: '52:54:00:00:00:01' },
      { kind: 'mdev', name: 'tty0', parent: 'mtty', type: 'mtty-2', uuid: '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001' },
    ]);
  });

  it('accepts the agent, a pinned key, a jump through another host and trust on first use', () => {
    const text = minimalLab(
      replaceLine(15, '    agent: true'),
      replaceLine(16, '    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHhpbC1leGFtcGxlLWtleS1mb3ItdGVzdHM root@host-b"'),
      insertAfter(17, '    jump: host-a'),
      replaceLine(8, '    trustOnFirstUse: true'),
    );
    const lab = parseLab(text, '/l/lab.yaml');
    expect(lab.hosts['host-b']).to.deep.include({ agent: true, jump: 'host-a' });
    expect(lab.hosts['host-b']?.identityFile).to.equal(undefined);
    expect(lab.hosts['host-b']?.hostKey).to.match(/^ssh-ed25519 AAAA/);
    expect(lab.hosts['host-a']).to.deep.include({ trustOnFirstUse: true });
    expect(lab.hosts['host-a']?.knownHosts).to.equal(undefined);
  });

  it('takes aliases and anchors, the YAML way to share a block', () => {
    const text = minimalLab(replaceLine(10, '    nics: &vfs'), replaceLine(18, '    nics: *vfs'));
    const lab = parseLab(text, '/l/lab.yaml');
    expect(lab.hosts['host-b']?.nics).to.deep.equal(lab.hosts['host-a']?.nics);
  });
});

describe('loadLab from disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hil-config-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a lab file and anchors its paths at its folder', () => {
    mkdirSync(path.join(dir, 'labs'));
    const file = path.join(dir, 'labs', 'rack.yaml');
    writeFileSync(file, minimalLab());
    const lab = loadLab(file);
    expect(lab.file).to.equal(file);
    expect(lab.guests['default']?.kernel).to.equal(path.join(dir, 'labs', 'vmlinuz'));
  });
});
