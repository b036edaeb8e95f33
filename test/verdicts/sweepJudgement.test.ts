import { expect } from 'chai';
import { judgeDowntimeSweep, type SweepPoint } from '../../suites/migration/judgeDowntimeSweep.js';

const SETUP = { bandwidthBytesPerSec: 32 * 1048576, slackBytes: 1048576, workingSetBytes: 48 * 1048576 };

function point(limitMs: number, stopCopyBytes: number | null, dirtyBytesPerSec: number | null, overrides: Partial<SweepPoint> = {}): SweepPoint {
  return { limitMs, readBackLimitMs: limitMs, firstExpectedDowntimeMs: limitMs, stopCopyBytes, dirtyBytesPerSec, downtimeMs: 20, dirtySyncCount: 5, totalTimeMs: 7000, ...overrides };
}

/** A virtual-lab sweep with the guest dirtying ~22 MB/s (figures of a real run). */
const HONEST = [point(50, 1_610_000, 33_800_000), point(150, 4_540_000, 22_540_000), point(300, 9_180_000, 22_710_000), point(1000, 32_500_000, 16_020_000)];

describe('downtime sweep judgement', () => {
  it('passes a sweep where each limit bounds stop-copy and the bytes grow with the limit', () => {
    const verdict = judgeDowntimeSweep(HONEST, SETUP);
    expect(verdict.failures).to.deep.equal([]);
    expect(verdict.inconclusive).to.equal(null);
    expect(verdict.steps.filter((s) => s.includes('must grow'))).to.have.length(4);
  });

  it('negative control: the same guest with the limit ignored (QEMU kept its default 300 ms) FAILS', () => {
    // What QEMU does at 300 ms whatever it was asked: ~9 MB of stop-copy at every limit, and 300 read back.
    const ignored = [50, 150, 300, 1000].map((limitMs, i) => point(limitMs, [9_180_000, 8_950_000, 9_300_000, 9_050_000][i]!, 22_000_000, { readBackLimitMs: 300, firstExpectedDowntimeMs: 300 }));
    const verdict = judgeDowntimeSweep(ignored, SETUP);
    expect(verdict.inconclusive).to.equal(null);
    expect(verdict.failures.join('\n')).to.match(/downtime-limit 50 ms: stop-copy sent 9\.18 MB of RAM, above 1\.5 × 33\.55 MB\/s × 50 ms \+ 1\.05 MB = 3\.57 MB/);
    expect(verdict.failures.join('\n')).to.match(/300 → 1000 ms: stop-copy bytes did not grow/);
    expect(verdict.failures.join('\n')).to.match(/downtime-limit 1000 ms: query-migrate-parameters reads back downtime-limit 300 ms/);
  });

  it('negative control: a limit ignored only in what QEMU does (read back right) still FAILS on the bytes', () => {
    const ignored = HONEST.map((p) => ({ ...p, stopCopyBytes: 32_000_000 }));
    const failures = judgeDowntimeSweep(ignored, SETUP).failures;
    expect(failures.some((f) => f.startsWith('downtime-limit 50 ms: stop-copy sent 32.00 MB'))).to.equal(true);
    expect(failures.some((f) => f.startsWith('50 → 1000 ms: stop-copy bytes did not grow'))).to.equal(true);
  });

  it('fails on the limit read back or the expected downtime alone', () => {
    const wrongReadBack = HONEST.map((p) => (p.limitMs === 150 ? { ...p, readBackLimitMs: 300 } : p));
    expect(judgeDowntimeSweep(wrongReadBack, SETUP).failures).to.deep.equal(['downtime-limit 150 ms: query-migrate-parameters reads back downtime-limit 300 ms']);
    const wrongExpected = HONEST.map((p) => (p.limitMs === 50 ? { ...p, firstExpectedDowntimeMs: null } : p));
    expect(judgeDowntimeSweep(wrongExpected, SETUP).failures).to.deep.equal(["downtime-limit 50 ms: QEMU's expected downtime at the start of the migration is not reported ms, not the limit"]);
  });

  it('requires strict growth only where the dirty rate tells the limits apart', () => {
    // At 3 MB/s the guest leaves at most 0.9 MB pending at 300 ms: 150 and 300 cannot differ, 50 and 1000 can.
    const slow = [point(50, 400_000, 3_000_000), point(150, 500_000, 3_000_000), point(300, 500_000, 3_000_000), point(1000, 2_100_000, 3_000_000)];
    const verdict = judgeDowntimeSweep(slow, SETUP);
    expect(verdict.failures).to.deep.equal([]);
    expect(verdict.steps.find((s) => s.startsWith('150 → 300 ms'))).to.match(/not told apart by this guest/);
    expect(verdict.steps.find((s) => s.startsWith('50 → 1000 ms'))).to.match(/must grow/);
    const flat = slow.map((p) => (p.limitMs === 1000 ? { ...p, stopCopyBytes: 400_000 } : p));
    expect(judgeDowntimeSweep(flat, SETUP).failures).to.deep.include.members([
      '50 → 1000 ms: stop-copy bytes did not grow (0.40 MB → 0.40 MB; dirty rate at 1000 ms 3.00 MB/s, so stop-copy there above about 3.00 MB, against at most 1.68 MB at 50 ms (told apart above 1.25 × that))',
    ]);
  });

  it('a step whose rate × limit only just clears the tighter limit is not required to grow (the rate is the last syncs\', not the final pass\')', () => {
    // Seen: 2.64 MB of stop-copy at 150 ms with a rate of 19.7 MB/s (× 150 ms = 2.96 MB).
    const close = [point(50, 1_600_000, 10_000_000), point(150, 1_500_000, 13_000_000), point(1000, 30_000_000, 14_000_000)];
    const verdict = judgeDowntimeSweep(close, SETUP);
    expect(verdict.failures).to.deep.equal([]);
    expect(verdict.steps.find((s) => s.startsWith('50 → 150 ms'))).to.match(/not told apart/);
  });

  it('an idle guest that cannot tell even the extremes apart gives no verdict, not a PASS', () => {
    const idle = [point(50, 600_000, 0), point(1000, 700_000, 0)];
    const verdict = judgeDowntimeSweep(idle, SETUP);
    expect(verdict.inconclusive).to.match(/dirtied too little to tell the tightest limit from the loosest/);
  });

  it('missing figures are failures, not passes', () => {
    const verdict = judgeDowntimeSweep([point(50, null, 20_000_000), point(1000, 30_000_000, null)], SETUP);
    expect(verdict.failures).to.include('downtime-limit 50 ms: query-migrate has no ram.downtime-bytes');
    expect(judgeDowntimeSweep([point(50, 1_000_000, 20_000_000), point(1000, 30_000_000, null)], SETUP).failures[0]).to.match(/no dirty rate reported at 1000 ms/);
  });
});
