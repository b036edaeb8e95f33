import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareMttyUart, expectedAfterMigration, expectedAfterSetUp, formatUartMismatches, formatUartReading } from './mttyUartJudge.js';
import { MAX_QUEUED_BYTES, mttyUartPlan, type MttyUartPlan } from './mttyUartPlan.js';
import type { MttyUartReading } from './mttyUartJudge.js';
import { mttyUartReadBackCommand, mttyUartSetUpCommand, parseMttyUartOutput, setUpMttyUart } from './mttyUartState.js';
import type { CommandRunner } from '../runner.js';

const PLAN: MttyUartPlan = { leg: 1, lcr: 0x1b, dll: 0x34, dlm: 0x12, ier: 0x0c, mcr: 0x34, scr: 0xa5, queuedBytes: [0x11, 0x22, 0x33] };

/** What the destination prints when every value crossed the migration. */
const GOOD_READ_BACK = [
  'mtty-reg LCR.DLAB 9b', 'mtty-reg DLL 34', 'mtty-reg DLM 12',
  'mtty-reg IER 0c', 'mtty-reg MCR 34', 'mtty-reg SCR a5', 'mtty-reg LSR 01',
  'mtty-rx 11', 'mtty-rx 22', 'mtty-rx 33', 'mtty-reg LSR.drained 60', 'mtty-done',
];

function reading(lines: readonly string[]): MttyUartReading {
  return parseMttyUartOutput(lines.join('\n'));
}

describe('guest mtty UART state: plan, commands, parser and judge', function () {
  it('plans non-zero values mtty keeps, no interrupt source, and every field different from the previous leg', function () {
    for (const seed of [0, 1, 0xdeadbeef, 0xffffffff, 123456789]) {
      for (let leg = 1; leg <= 6; leg++) {
        const plan = mttyUartPlan(seed, leg);
        const previous = mttyUartPlan(seed, leg + 1);
        expect(plan.lcr, 'LCR without DLAB').to.be.within(1, 0x7f);
        for (const value of [plan.dll, plan.dlm, plan.scr, ...plan.queuedBytes]) expect(value).to.be.within(1, 0xff);
        expect([0x04, 0x08, 0x0c], 'IER: RLSI/MSI only').to.include(plan.ier);
        expect(plan.mcr & 0x10, 'MCR loopback').to.equal(0x10);
        expect(plan.mcr & 0x0b, 'MCR without DTR, RTS, OUT2').to.equal(0);
        expect(plan.queuedBytes.length).to.be.within(1, MAX_QUEUED_BYTES);
        expect(new Set(plan.queuedBytes).size, 'queued bytes distinct, so order shows').to.equal(plan.queuedBytes.length);
        for (const field of ['lcr', 'dll', 'dlm', 'ier', 'mcr', 'scr'] as const) {
          expect(plan[field], `${field} of legs ${leg} and ${leg + 1}, seed ${seed}`).to.not.equal(previous[field]);
        }
        expect(plan.queuedBytes, `queued bytes of legs ${leg} and ${leg + 1}`).to.not.deep.equal(previous.queuedBytes);
      }
    }
    expect(mttyUartPlan(7, 2)).to.deep.equal(mttyUartPlan(7, 2));
    expect(() => mttyUartPlan(7, 0)).to.throw(/leg must be a positive integer/);
  });

  it('parses register and RBR lines among console noise; an empty read is null', function () {
    const parsed = reading(['( r=/sys/... ) 2>&1', '[  12.3] some kernel line', ...GOOD_READ_BACK.slice(0, 3), 'mtty-reg IER', 'mtty-reg DLM -', ...GOOD_READ_BACK.slice(4)]);
    expect(parsed.registers.get('LCR.DLAB')).to.equal(0x9b);
    expect(parsed.registers.get('IER')).to.equal(null);
    expect(parsed.registers.get('DLM')).to.equal(null);
    expect(parsed.receivedBytes).to.deep.equal([0x11, 0x22, 0x33]);
    expect(parsed.isComplete).to.equal(true);
    expect(parsed.failures).to.deep.equal([]);
    expect(reading(['mtty-fail write 245 at offset 7', 'mtty-rx']).failures).to.deep.equal(['write 245 at offset 7', 'RBR read returned ""']);
  });

  it('accepts the destination read back that matches the plan', function () {
    expect(compareMttyUart(expectedAfterMigration(PLAN), reading(GOOD_READ_BACK))).to.deep.equal([]);
    expect(formatUartReading(reading(GOOD_READ_BACK))).to.equal('LCR.DLAB=9b DLL=34 DLM=12 IER=0c MCR=34 SCR=a5 LSR=01 LSR.drained=60 RBR=11 22 33');
  });

  it('control: a changed register, a lost byte, a reordered FIFO and a FIFO that never empties each fail, naming register, expected and read', function () {
    const changed = GOOD_READ_BACK.map((line) => (line === 'mtty-reg SCR a5' ? 'mtty-reg SCR 00' : line));
    expect(formatUartMismatches(compareMttyUart(expectedAfterMigration(PLAN), reading(changed)))).to.equal('SCR (scratch) expected 0xa5, read 0x00');

    const lost = GOOD_READ_BACK.filter((line) => line !== 'mtty-rx 22');
    expect(formatUartMismatches(compareMttyUart(expectedAfterMigration(PLAN), reading(lost)))).to.equal('RBR (bytes queued in the FIFO, in order) expected 11 22 33, read 11 33');

    const reordered = GOOD_READ_BACK.map((line) => (line === 'mtty-rx 11' ? 'mtty-rx 22' : line === 'mtty-rx 22' ? 'mtty-rx 11' : line));
    expect(compareMttyUart(expectedAfterMigration(PLAN), reading(reordered)).map((m) => m.register)).to.deep.equal(['RBR']);

    // The state a destination mdev has when nothing was loaded: its own earlier registers, DLAB clear.
    const stale = ['mtty-reg LCR.DLAB 1b', 'mtty-reg DLL -', 'mtty-reg DLM -', 'mtty-reg IER 04', 'mtty-reg MCR 34', 'mtty-reg SCR a5', 'mtty-reg LSR 60', 'mtty-reg LSR.drained 60', 'mtty-done'];
    expect(formatUartMismatches(compareMttyUart(expectedAfterMigration(PLAN), reading(stale)))).to.equal(
      'LCR.DLAB (line control with the divisor latch open) expected 0x9b, read 0x1b; DLL (divisor latch low) expected 0x34, read nothing; '
      + 'DLM (divisor latch high) expected 0x12, read nothing; IER (interrupt enable) expected 0x0c, read 0x04; '
      + 'LSR (line status with 3 bytes queued: data ready, no overrun) expected 0x01, read 0x60; RBR (bytes queued in the FIFO, in order) expected 11 22 33, read nothing');

    const endless = [...GOOD_READ_BACK.slice(0, 7), ...Array.from({ length: 16 }, () => 'mtty-rx 11'), 'mtty-reg LSR.drained 01', 'mtty-done'];
    expect(formatUartMismatches(compareMttyUart(expectedAfterMigration(PLAN), reading(endless)))).to.match(/^LSR.drained .* expected 0x60, read 0x01; RBR .* read (11 ){15}11 \(still data ready after 16 reads: the FIFO did not empty\)$/);
  });

  describe('the shell commands, run by sh on an 8-byte file in place of the BAR', function () {
    let dir: string;
    beforeEach(function () { dir = mkdtempSync(join(tmpdir(), 'mtty-uart-')); });
    afterEach(function () { rmSync(dir, { recursive: true, force: true }); });

    /** The command's output whatever its exit code, as the console would show it. */
    function runOn(command: string): string {
      return spawnSync('/bin/sh', ['-c', `( ${command} ) 2>&1`], { encoding: 'utf8' }).stdout;
    }

    it('the set-up command writes each register at its offset and reads back what it wrote', function () {
      const bar = join(dir, 'resource0');
      // A file keeps the last byte written at each offset; LSR (5) is never written, so it is preset as mtty would show it.
      writeFileSync(bar, Buffer.from([0, 0, 0, 0, 0, 0x01, 0, 0]));
      const parsed = parseMttyUartOutput(runOn(mttyUartSetUpCommand(bar, PLAN)));
      expect(parsed.failures).to.deep.equal([]);
      expect(parsed.isComplete).to.equal(true);
      expect(compareMttyUart(expectedAfterSetUp(PLAN), parsed)).to.deep.equal([]);
      expect([...readFileSync(bar)]).to.deep.equal([0x34, 0x12, 0x07, 0x9b, 0x34, 0x01, 0x00, 0xa5]);
    });

    it('the read-back command reads the divisor only with DLAB set, clears DLAB, and stops an RBR that never empties', function () {
      const bar = join(dir, 'resource0');
      writeFileSync(bar, Buffer.from([0x34, 0x12, 0xc1, 0x9b, 0x34, 0x60, 0xb0, 0xa5]));
      const latched = parseMttyUartOutput(runOn(mttyUartReadBackCommand(bar)));
      expect(formatUartReading(latched)).to.equal('LCR.DLAB=9b DLL=34 DLM=12 IER=12 MCR=34 SCR=a5 LSR=60 LSR.drained=60 RBR=nothing');
      expect(readFileSync(bar)[3], 'LCR written back without DLAB').to.equal(0x1b);

      writeFileSync(bar, Buffer.from([0x34, 0x0c, 0xc1, 0x1b, 0x34, 0x01, 0xb0, 0xa5]));
      const unlatched = parseMttyUartOutput(runOn(mttyUartReadBackCommand(bar)));
      expect(unlatched.registers.get('DLL'), 'offset 0 not read as DLL with DLAB clear').to.equal(null);
      expect(unlatched.receivedBytes, 'RBR read until the bound').to.have.length(MAX_QUEUED_BYTES + 1);
      expect(unlatched.isComplete).to.equal(true);
    });

    it('a missing BAR file is a failure the action reports, not a reading', async function () {
      const missing = join(dir, 'absent');
      expect(parseMttyUartOutput(runOn(mttyUartReadBackCommand(missing))).failures).to.deep.equal([`no ${missing}`]);
      const guest: CommandRunner = { where: 'test guest', run: async () => ({ exitCode: 3, signal: null, stdout: 'mtty-fail no /sys/bus/pci/devices/0000:00:01.0/resource0\n', stderr: '', durationMs: 1 }) };
      const error = await setUpMttyUart(guest, '0000:00:01.0', PLAN).then(() => null, (e: unknown) => e);
      expect(error).to.have.property('code', 'MTTY_UART_ACCESS');
      expect(String(error)).to.match(/Writing the UART state of migration 1 on 0000:00:01.0 over test guest did not finish: no \/sys\/bus/);
    });

    it('a write that does not read back on the source fails before any migration, naming the register', async function () {
      const guest: CommandRunner = {
        where: 'test guest',
        run: async () => ({ exitCode: 0, signal: null, stdout: ['mtty-reg IER 0c', 'mtty-reg MCR 34', 'mtty-reg SCR 00', 'mtty-reg LSR 01', 'mtty-reg LCR 1b', 'mtty-reg LCR.DLAB 9b', 'mtty-reg DLL 34', 'mtty-reg DLM 12', 'mtty-done'].join('\n'), stderr: '', durationMs: 1 }),
      };
      const error = await setUpMttyUart(guest, '0000:00:01.0', PLAN).then(() => null, (e: unknown) => e);
      expect(error).to.have.property('code', 'MTTY_UART_SET_UP');
      expect(String(error)).to.include('did not read back on the source, before any migration: SCR (scratch) expected 0xa5, read 0x00');
    });
  });
});
