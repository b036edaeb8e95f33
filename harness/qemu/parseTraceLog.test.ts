import { expect } from 'chai';
import { parseTraceLog, parseTraceLogCounted, selectTraceLines } from './parseTraceLog.js';

describe('parseTraceLog', function () {
  const text = [
    '25050@1795529886.714916:vtd_switch_address_space Device 00:01.0 switching address space (iommu enabled=1)',
    '25050@1795529886.812713:vtd_inv_desc_cc_devices context invalidate devices sid 0x8 fmask 0x0',
    '25050@1795529886.812723:vtd_inv_desc_cc_device context invalidate device 00:01.00',
    'vfio_iommu_map_notify iommu UNMAP @ 0x100000000000 - 0x1fffffffffff',
    '2026-11-24T14:00:00.000000Z qemu-system-x86_64: warning: not a trace line',
    '',
  ].join('\n');

  it('reads timestamped lines in host milliseconds and plain lines without a time', function () {
    const lines = parseTraceLog(text);
    expect(lines.map((l) => l.event)).to.deep.equal(['vtd_switch_address_space', 'vtd_inv_desc_cc_devices', 'vtd_inv_desc_cc_device', 'vfio_iommu_map_notify']);
    expect(lines[0]!.atMs).to.be.closeTo(1795529886714.916, 0.001);
    expect(lines[0]!.threadId).to.equal(25050);
    expect(lines[0]!.args).to.equal('Device 00:01.0 switching address space (iommu enabled=1)');
    expect(lines[3]!.atMs).to.equal(null);
  });

  it('reads QEMU 11.1\'s ISO-timestamped lines, but not its messages', function () {
    const lines = parseTraceLog([
      '2026-11-24T15:00:18.440379Z vfio_load_state_device_data  (83b8f4f2-509f-382f-3c1e-e6bfe0fa1001) size 24 ret -9',
      '2026-11-24T15:00:18.456151Z qemu-system-x86_64: load of migration failed: Bad file descriptor',
    ].join('\n'));
    expect(lines).to.have.length(1);
    expect(lines[0]!.event).to.equal('vfio_load_state_device_data');
    expect(lines[0]!.atMs).to.be.closeTo(Date.UTC(2026, 10, 24, 15, 0, 18, 440) + 0.379, 0.001);
    expect(lines[0]!.args).to.include('size 24 ret -9');
  });

  it('reads an ISO-timestamped record whose microseconds are zero, which GLib writes without a fraction', function () {
    // Seen in a patch-7 run: this one record made the whole trace "unreadable" and the run INCONCLUSIVE.
    const parsed = parseTraceLogCounted([
      '2026-12-03T14:59:13.999999Z vfio_iommu_map_notify iommu UNMAP @ 0x100c0000 - 0x100c0fff',
      '2026-12-03T14:59:13Z vfio_iommu_map_notify iommu UNMAP @ 0x100c1000 - 0x100c1fff',
      '2026-12-03T14:59:14Z qemu-system-x86_64: a message at a whole second',
    ].join('\n'));
    expect(parsed.unparsedLineCount).to.equal(0);
    expect(parsed.messageLineCount).to.equal(1);
    expect(parsed.lines.map((l) => [l.event, l.atMs])).to.deep.equal([
      ['vfio_iommu_map_notify', Date.UTC(2026, 11, 3, 14, 59, 13) + 999.999],
      ['vfio_iommu_map_notify', Date.UTC(2026, 11, 3, 14, 59, 13)],
    ]);
  });

  it('selects by name or prefix, inside a time window', function () {
    const lines = parseTraceLog(text);
    expect(selectTraceLines(lines, 'vtd_inv_desc_cc_*')).to.have.length(2);
    expect(selectTraceLines(lines, 'vtd_inv_desc_cc_device')).to.have.length(1);
    expect(selectTraceLines(lines, 'vtd_*', { fromMs: 1795529886800, toMs: 1795529886900 })).to.have.length(2);
    // A line without a time is never inside a window.
    expect(selectTraceLines(lines, 'vfio_*', { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER })).to.have.length(0);
  });

  it('counts the lines it could not read apart from QEMU\'s own messages and blank lines', function () {
    const parsed = parseTraceLogCounted([
      '25050@1795529886.714916:vtd_switch_address_space Device 00:01.0 switching address space (iommu enabled=1)',
      '2026-11-24T15:00:18.456151Z qemu-system-x86_64: load of migration failed: Bad file descriptor',
      'qemu-system-x86_64: terminating on signal 15',
      '9886.714916:vtd_as_unmap_wh',
      '\u0000\u0000\u0000',
      '',
      '',
    ].join('\n'));
    expect(parsed.lines.map((l) => l.event)).to.deep.equal(['vtd_switch_address_space']);
    expect(parsed.messageLineCount).to.equal(2);
    expect(parsed.unparsedLineCount).to.equal(2);
    expect(parsed.unparsedSamples[0]).to.equal('9886.714916:vtd_as_unmap_wh');
    expect(parseTraceLogCounted('')).to.deep.equal({ lines: [], messageLineCount: 0, unparsedLineCount: 0, unparsedSamples: [] });
  });
});
