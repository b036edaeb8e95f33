import { expect } from 'chai';
import { installationFault } from './installationFault.js';

describe('installationFault', function () {
  it("names a missing firmware folder with QEMU's own line", function () {
    const log = "2026-12-03T10:00:00.000 qemu-system-x86_64: warning: something else\nqemu: could not load PC BIOS 'bios-256k.bin'\n";
    expect(installationFault(log)).to.deep.equal({ what: 'its firmware is missing (is the QEMU installation complete, with its data folder?)', line: "qemu: could not load PC BIOS 'bios-256k.bin'" });
  });

  it('names a missing binary, kernel and ROM file', function () {
    expect(installationFault('/bin/sh: 1: exec: /opt/qemu/bin/qemu-system-x86_64: not found')?.what).to.equal('the QEMU binary is not on the host');
    expect(installationFault("qemu: could not load kernel '/srv/hil/images/vmlinuz': No such file or directory")?.what).to.equal('the guest kernel is not on the host');
    expect(installationFault('qemu-system-x86_64: -netdev tap,id=nic0-net,ifname=hil-tap0,script=no,downscript=no: could not configure /dev/net/tun (hil-tap0): Device or resource busy')?.what).to.contain("tap interface");
    expect(installationFault('qemu-system-x86_64: -device pci-testdev,romfile=/x.rom: failed to find romfile "/x.rom"')?.what).to.equal('a device ROM file is missing');
  });

  it('leaves a device realize error to the suite (null)', function () {
    expect(installationFault("qemu-system-x86_64: -device vfio-pci,host=0000:3b:00.2,id=vf0: vfio 0000:3b:00.2: no such host device: No such file or directory")).to.equal(null);
    expect(installationFault('')).to.equal(null);
  });
});
