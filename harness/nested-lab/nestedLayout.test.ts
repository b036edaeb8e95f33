import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLab, parseLab } from '../config/loadLab.js';
import { projectRoot } from '../projectRoot.js';
import { l1IdentityScript, l1QemuArgv } from './l1QemuArgv.js';
import { l1ImageFiles } from './L1ImageBuilder.js';
import { L1_PF_ADDRESS, nestedLayout } from './nestedLayout.js';
import { controllerMirror, parseMadison } from './TrixieApt.js';

const labFile = join(projectRoot(), 'labs', 'nested.yaml');

describe('nested lab layout (pure)', () => {
  const config = loadLab(labFile);
  const layout = nestedLayout(config);

  it('turns labs/nested.yaml into two L1 hosts on their own prefix and subnet', () => {
    expect(config.kind).to.equal('nested');
    expect(layout.hosts.map((h) => [h.hostName, h.address, h.vmName])).to.deep.equal([
      ['host-a', '10.232.0.11', 'nhil-l1-host-a'],
      ['host-b', '10.232.0.12', 'nhil-l1-host-b'],
    ]);
    expect(layout.network.switchNamespace).to.equal('nhil-sw');
    expect(layout.network.hosts.map((h) => [h.namespace, h.address])).to.deep.equal([['nhil-vms', '10.232.0.2']]);
    expect(layout.network.hosts[0]!.taps).to.deep.equal(['nhil-0-mgmt', 'nhil-0-pf', 'nhil-0-lan', 'nhil-1-mgmt', 'nhil-1-pf', 'nhil-1-lan']);
    expect(layout.stateDir).to.equal(join(projectRoot(), 'labs', '.lab', 'nested'));
    // Caches outside the checkout: a fresh clone on a warm machine builds no image.
    expect([layout.imageDir, layout.modulesDir]).to.deep.equal(['/var/cache/vfio-hil/nested/image', '/var/cache/vfio-hil/nested/modules']);
  });

  it('never names an L1 like a guest under test (preflight would take it for a stale hil- VM)', () => {
    for (const host of layout.hosts) expect(host.vmName).not.to.match(/^hil-/);
  });

  it('gives each host and NIC role its own stable MAC', () => {
    const macs = layout.hosts.flatMap((h) => Object.values(h.macs));
    expect(new Set(macs).size).to.equal(macs.length);
    expect(nestedLayout(loadLab(labFile)).hosts[0]!.macs).to.deep.equal(layout.hosts[0]!.macs);
    for (const mac of macs) expect(mac).to.match(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });

  it('refuses a lab file whose PF address is not where the L1 has its igb', () => {
    const broken = parseLab(readFileSync(labFile, 'utf8').replace(`pf: "${L1_PF_ADDRESS}"`, 'pf: "0000:00:04.0"'), labFile);
    expect(() => nestedLayout(broken)).to.throw(/igb PF is at 0000:00:03.0, got pf "0000:00:04.0"/);
  });

  it('builds the L1 command line: TCG q35 with split irqchip, VT-d with caching mode first, igb at the PF slot', () => {
    const argv = l1QemuArgv(layout.hosts[0]!, l1ImageFiles('/img'), '/keys', { memoryMiB: 3072, cpus: 2 });
    const joined = argv.join(' ');
    expect(joined).to.include('-machine q35,kernel-irqchip=split -accel tcg -cpu max');
    expect(joined).to.include('-device intel-iommu,intremap=on,caching-mode=on');
    expect(joined).to.include(`igb,netdev=pf,mac=${layout.hosts[0]!.macs.pf},addr=0x3`);
    expect(joined).to.include('file=/img/root.ext4,format=raw,if=none,id=root,snapshot=on');
    expect(argv.indexOf('intel-iommu,intremap=on,caching-mode=on')).to.be.lessThan(argv.findIndex((a) => a.startsWith('virtio-blk-pci')));
    expect(argv[argv.indexOf('-append') + 1]).to.include('intel_iommu=on');
  });

  it('applies a tuning to the L1 line one knob at a time: TCG options, CPU model, vCPUs, kernel parameters after the lab\'s', () => {
    const files = l1ImageFiles('/img');
    const plain = l1QemuArgv(layout.hosts[0]!, files, '/keys', { memoryMiB: 3072, cpus: 2 });
    const tuned = l1QemuArgv(layout.hosts[0]!, files, '/keys', { memoryMiB: 3072, cpus: 2, tuning: { tcgOptions: 'thread=single', cpuModel: 'EPYC', cpus: 1, kernelParams: ['kvm_amd.npt=0'] } });
    const after = (argv: string[], flag: string): string | undefined => argv[argv.indexOf(flag) + 1];
    expect([after(tuned, '-accel'), after(tuned, '-cpu'), after(tuned, '-smp')]).to.deep.equal(['tcg,thread=single', 'EPYC', '1']);
    expect(after(tuned, '-append')).to.equal(`${after(plain, '-append')} kvm_amd.npt=0`);
    const onlyCpu = l1QemuArgv(layout.hosts[0]!, files, '/keys', { memoryMiB: 3072, cpus: 2, tuning: { cpuModel: 'max,-x2apic' } });
    expect(onlyCpu.filter((a, i) => a !== plain[i])).to.deep.equal(['max,-x2apic']);
    const withFirmware = l1QemuArgv(layout.hosts[0]!, files, '/keys', { memoryMiB: 3072, cpus: 2, tuning: { extraArgs: ['-L', '/other/share/qemu'] } });
    expect(withFirmware.slice(plain.length)).to.deep.equal(['-L', '/other/share/qemu']);
  });

  it('writes the identity hil-setup sources, quoted', () => {
    const script = l1IdentityScript(layout.hosts[1]!);
    expect(script).to.include("HIL_HOSTNAME='host-b'");
    expect(script).to.include("HIL_MGMT_CIDR='10.232.0.12/24'");
  });
});

describe('trixie apt helpers (pure)', () => {
  it('reads madison lines by suite, newest first', () => {
    const versions = parseMadison([
      'qemu-system-x86 | 1:11.1.3+ds-1~bpo13+1 | http://deb.debian.org/debian trixie-backports/main amd64 Packages',
      'qemu-system-x86 | 1:10.0.13+ds-0+deb13u1 | http://deb.debian.org/debian trixie/main amd64 Packages',
      'linux-source-6.12 | 6.12.117-1 | http://deb.debian.org/debian trixie/main amd64 Packages',
      'linux-source-6.12 | 6.12.107-1 | http://deb.debian.org/debian trixie/main amd64 Packages',
    ].join('\n'));
    expect(versions).to.deep.equal({
      'trixie-backports': { 'qemu-system-x86': '1:11.1.3+ds-1~bpo13+1' },
      trixie: { 'qemu-system-x86': '1:10.0.13+ds-0+deb13u1', 'linux-source-6.12': '6.12.117-1' },
    });
  });

  it("takes the mirror of the controller's bookworm source", () => {
    const mirror = controllerMirror([{ path: '/etc/apt/sources.list.d/debian.sources', text: 'Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\nComponents: main\n' }]);
    expect(mirror).to.equal('http://mirror.example/debian');
  });
});
