import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTraceReadOutput, readTraceRecords, TRACE_READ_MAX_BYTES, traceReadCommand } from './TraceFileRead.js';

describe('TraceFileRead: a missing, an empty and a written trace file are three facts', function () {
  const path = '/var/lib/hil/vms/x/trace.log';

  it('tells a missing file from an empty one from one with lines', function () {
    const missing = readTraceRecords(parseTraceReadOutput(path, 'missing\n'));
    expect(missing.facts.state).to.equal('missing');
    expect(missing.facts.path).to.equal(path);
    const empty = readTraceRecords(parseTraceReadOutput(path, '0\n'));
    expect(empty.facts.state).to.equal('empty');
    expect(empty.lines).to.deep.equal([]);
    const written = readTraceRecords(parseTraceReadOutput(path, '120\n25050@1795529886.714916:vtd_as_unmap_whole Device 00:03.0 start 0x0 size 0x100000000000\ntorn li\n'));
    expect(written.facts).to.deep.include({ state: 'has-lines', sizeBytes: 120, isTruncated: false, recordCount: 1, unparsedLineCount: 1 });
    expect(written.lines[0]!.event).to.equal('vtd_as_unmap_whole');
  });

  it('marks a file larger than what is read as truncated and drops the torn first line of its tail', function () {
    const read = parseTraceReadOutput(path, `${TRACE_READ_MAX_BYTES + 10}\nable_address_space Device\n25050@1795529886.714916:vtd_switch_address_space Device 00:03.0 switching address space (iommu enabled=1)\n`);
    expect(read).to.deep.include({ kind: 'read', isTruncated: true });
    const records = readTraceRecords(read);
    expect(records.facts.unparsedLineCount).to.equal(0);
    expect(records.facts.isTruncated).to.equal(true);
    expect(records.lines).to.have.length(1);
  });

  it('reads real files through its shell command: missing, empty and written are told apart', function () {
    const dir = mkdtempSync(join(tmpdir(), 'hil-trace-read-'));
    try {
      const read = (name: string) => readTraceRecords(parseTraceReadOutput(join(dir, name), execFileSync('sh', ['-c', traceReadCommand(join(dir, name))], { encoding: 'utf8' }))).facts;
      writeFileSync(join(dir, 'empty.log'), '');
      writeFileSync(join(dir, 'written.log'), '25050@1795529886.714916:vtd_switch_address_space Device 00:03.0 switching address space (iommu enabled=1)\n');
      expect(read('none.log').state).to.equal('missing');
      expect(read('empty.log')).to.deep.include({ state: 'empty', sizeBytes: 0 });
      expect(read('written.log')).to.deep.include({ state: 'has-lines', recordCount: 1, isTruncated: false, sizeBytes: 106 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
