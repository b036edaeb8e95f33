import { expect } from 'chai';
import { defaultDomainCycleCommand, domainCycleLine, parseDomainCycleOutput } from './cycleDefaultDomain.js';
import { GuestConsole } from '../console/GuestConsole.js';
import { vfioLoopCommand } from './runVfioLoop.js';
import { parseGuestPciListing } from './guestPciFunctions.js';
import { readBootId } from './readBootId.js';
import type { CommandRunner } from '../runner.js';
import { parseVfioLoopOutput } from './runVfioLoop.js';

describe('guest actions: output parsing', function () {
  it('lists guest PCI functions with driver and IOMMU group, dashes as none', function () {
    const text = [
      'pcifn 0000:00:00.0 0x8086 0x29c0 - 0',
      'pcifn 0000:00:02.0 0x8086 0x10D3 vfio-pci 1',
      'pcifn 0000:00:03.0 0x1af4 0x1000 virtio-pci -',
      'noise line',
    ].join('\n');
    expect(parseGuestPciListing(text)).to.deep.equal([
      { bdf: '0000:00:00.0', vendorId: '8086', deviceId: '29c0', driver: null, iommuGroup: 0 },
      { bdf: '0000:00:02.0', vendorId: '8086', deviceId: '10d3', driver: 'vfio-pci', iommuGroup: 1 },
      { bdf: '0000:00:03.0', vendorId: '1af4', deviceId: '1000', driver: 'virtio-pci', iommuGroup: null },
    ]);
  });

  it('reads vfio-loop\'s done line, successes counted apart from failures, its DMA window and per-step errors', function () {
    const text = 'vfio-loop: cycle 3: VFIO_GROUP_SET_CONTAINER: Device or resource busy\nvfio-loop: done cycles=20 succeeded=19 failed=1 elapsed_ms=2043 group=1 iova=0x10000000 map_kib=1024 iommu=type1v2\n';
    expect(parseVfioLoopOutput('0000:00:02.0', text)).to.deep.equal({
      way: 'vfio-user-program', bdf: '0000:00:02.0', cycles: 20, succeededCycles: 19, failedCycles: 1, elapsedMs: 2043,
      errors: ['vfio-loop: cycle 3: VFIO_GROUP_SET_CONTAINER: Device or resource busy'],
      dmaWindow: { iova: 0x10000000, sizeBytes: 1024 * 1024 },
    });
    expect(parseVfioLoopOutput('0000:00:02.0', 'vfio-loop: 0000:00:02.0 is not bound to vfio-pci (driver: none)')).to.equal(null);
  });

  it('refuses a vfio-loop that does not count its successes, and counts that do not add up', function () {
    expect(() => parseVfioLoopOutput('0000:00:02.0', 'vfio-loop: done cycles=20 failed=0 elapsed_ms=2043 group=1 map_kib=1024 iommu=type1v2\n'))
      .to.throw(/does not count its successful cycles.*rebuild the image/).with.property('code', 'GUEST_VFIO_LOOP_OUTDATED');
    expect(() => parseVfioLoopOutput('0000:00:02.0', 'vfio-loop: done cycles=20 succeeded=20 failed=1 elapsed_ms=2043 group=1 iova=0x10000000 map_kib=1024 iommu=type1v2\n'))
      .to.throw(/20 cycles but 20 succeeded and 1 failed/).with.property('code', 'GUEST_VFIO_LOOP_COUNTS');
  });

  it('reads the default-domain cycle\'s summary, elapsed time from the guest uptime', function () {
    const text = 'sh: write error: Device or resource busy\ndomain-cycle: cycle 2: write identity failed\ndomain-cycle: done cycles=4 succeeded=3 failed=1 uptime_start=12.50 uptime_end=13.25 types=DMA,identity final=DMA\n';
    const outcome = parseDomainCycleOutput('0000:00:02.0', text);
    expect(outcome).to.deep.include({ way: 'sysfs-default-domain', cycles: 4, succeededCycles: 3, failedCycles: 1, elapsedMs: 750, dmaWindow: null });
    expect(outcome?.errors).to.have.length(2);
  });

  it('builds one shell line for the default-domain cycle and refuses a bad count', function () {
    const line = defaultDomainCycleCommand('0000:00:02.0', 3);
    expect(line).to.not.include('\n');
    expect(line).to.include('d=/sys/bus/pci/devices/0000:00:02.0; b=0000:00:02.0; n=3');
    expect(line).to.include('done cycles=$i succeeded=$ok_n failed=$f');
    expect(() => defaultDomainCycleCommand('0000:00:02.0', 0)).to.throw(/positive integer/);
  });

  it('the loops a phase hook starts fit on one guest shell line when armed (a longer one was cut short by busybox)', async function () {
    // Armed, each waits on its `read` in its own shell; arm() refuses a line the guest shell would cut.
    for (const line of [domainCycleLine('0000:00:02.0', 10), vfioLoopCommand('0000:00:02.0', { cycles: 200, maxSeconds: 5 })]) {
      const shell = new GuestConsole({ argv: ['/bin/sh'], where: 'local shell', defaultTimeoutMs: 5000 });
      shell.open();
      try {
        await shell.arm(line);
      } finally {
        shell.close();
      }
    }
  });

  it('reads the boot id when a kernel message lands in the console output, and refuses output without exactly one id', async function () {
    const answering = (stdout: string): CommandRunner => ({
      where: 'guest console of vm-1',
      run: async () => ({ exitCode: 0, signal: null, stdout, stderr: '', durationMs: 1 }),
    });
    const id = 'e2bfdd19-9b06-4c5a-83b0-81713adfa80d';
    expect(await readBootId(answering(`${id}\n\n[    2.749095] IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready`))).to.equal(id);
    expect(await readBootId(answering(`[    2.749095] e1000e: eth0 NIC Link is Up\n${id}`))).to.equal(id);
    const error = await readBootId(answering('[    2.749095] IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready')).then(() => null, (e: unknown) => e);
    expect(error).to.have.property('code', 'GUEST_BOOT_ID');
    const two = await readBootId(answering(`${id}\n${id.replace('e2', 'f3')}`)).then(() => null, (e: unknown) => e);
    expect(two).to.have.property('code', 'GUEST_BOOT_ID');
  });
});
