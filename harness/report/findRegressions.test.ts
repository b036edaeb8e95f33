import { expect } from 'chai';
import { bootstrapPercentileDifference, seededRandom } from '../measure/bootstrap.js';
import { DEFAULT_REGRESSION_OPTIONS, findRegressions } from './findRegressions.js';
import { cellLabels, syntheticRun } from '../../test/support/syntheticRun.js';
import { historyEntryOf } from './HistoryEntry.js';

const CELL = 'emulated / virtio-net-pci / none / 256';

function run(day: number, downtimesMs: readonly number[]) {
  const at = `2026-02-${String(day).padStart(2, '0')}T02:00:00.000Z`;
  return historyEntryOf(syntheticRun(`202602${String(day).padStart(2, '0')}-020000-0000`, at, [
    { title: 'ping-pong', outcome: 'PASS', labels: cellLabels('virtio-net-pci', 'none'), downtimesMs },
  ]));
}

/** Downtimes as the virtual lab gives them under TCG: 25–45 ms, drawn with a fixed seed. */
function tcgDowntimes(count: number, seed: number, scale = 1): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Math.round((25 + random() * 20) * scale * 10) / 10);
}

describe('findRegressions: a p95 verdict with a statistical basis', () => {
  it('two runs of the same distribution, one with a single outlier, are within noise, not a regression', () => {
    const baseline = run(1, tcgDowntimes(12, 1));
    const current = run(2, [...tcgDowntimes(11, 2), 219]);
    const report = findRegressions(current, baseline);
    expect(report.regressionCount).to.equal(0);
    const [c] = report.comparisons;
    // The point estimate alone grew far past the threshold: it is the spread that says "noise".
    expect(c!.p95AfterMs - c!.p95BeforeMs).to.be.above(c!.allowedMs * 5);
    expect(c).to.include({ cell: CELL, metric: 'downtimeMs', samplesBefore: 12, samplesAfter: 12, verdict: 'within-noise' });
    expect(c!.intervalMs!.low).to.be.at.most(c!.allowedMs);
    expect(c!.noiseMs).to.be.above(c!.allowedMs);
  });

  it('a real shift with enough migrations is a regression, with its interval and the lab\'s noise in the text', () => {
    const baseline = run(1, tcgDowntimes(20, 3));
    const current = run(2, tcgDowntimes(20, 4, 2));
    const report = findRegressions(current, baseline);
    expect(report.regressionCount).to.equal(1);
    const [c] = report.comparisons;
    expect(c!.verdict).to.equal('regression');
    expect(c!.intervalMs!.low).to.be.above(c!.allowedMs);
    expect(report.findings[0]).to.include({ kind: 'p95', isRegression: true, cell: CELL });
    expect(report.findings[0]!.text).to.match(/^downtimeMs p95 \S+ → \S+ ms \(\+\d+ %; 90 % interval of the change \+\S+ … \+\S+ ms, noise ±\S+ ms; allowed \+\S+ ms; 20 → 20 migrations\)$/);
  });

  it('too few migrations in a cell say "not enough data" and are never a regression', () => {
    // The virtual-lab case: 4 migrations per cell, 33.2 → 219 ms.
    const report = findRegressions(run(2, [30, 31, 33.2, 33.2]), run(1, [30, 31, 33, 33]));
    const grown = findRegressions(run(2, [30, 31, 33, 219]), run(1, [30, 31, 33, 33.2]));
    expect(report.regressionCount).to.equal(0);
    expect(grown.regressionCount).to.equal(0);
    expect(grown.comparisons[0]).to.include({ verdict: 'not-enough-data', intervalMs: null, noiseMs: null });
    expect(grown.findings.map((f) => [f.kind, f.isRegression, f.cell])).to.deep.equal([['not-enough-data', false, CELL]]);
    expect(grown.findings[0]!.text).to.equal('downtimeMs: not enough data (4 → 4 migrations, 10 needed in each run); p95 33.2 → 191 ms not judged');
  });

  it('the same runs give the same verdict and interval every time (seeded resampling)', () => {
    const baseline = run(1, tcgDowntimes(12, 1));
    const current = run(2, [...tcgDowntimes(11, 2), 219]);
    expect(findRegressions(current, baseline).comparisons).to.deep.equal(findRegressions(current, baseline).comparisons);
  });

  it('the threshold and slack still bound a real shift: a looser rule lets it through', () => {
    const baseline = run(1, tcgDowntimes(20, 3));
    const current = run(2, tcgDowntimes(20, 4, 2));
    const loose = findRegressions(current, baseline, { ...DEFAULT_REGRESSION_OPTIONS, thresholdPercent: 300 });
    const slack = findRegressions(current, baseline, { ...DEFAULT_REGRESSION_OPTIONS, minDeltaMs: 200 });
    expect([loose.regressionCount, slack.regressionCount]).to.deep.equal([0, 0]);
    expect(findRegressions(current, baseline, { ...DEFAULT_REGRESSION_OPTIONS, minSamples: 21 }).comparisons[0]!.verdict).to.equal('not-enough-data');
  });
});

describe('bootstrapPercentileDifference', () => {
  it('brackets the observed difference and narrows with more data', () => {
    const small = bootstrapPercentileDifference(tcgDowntimes(10, 5), tcgDowntimes(10, 6));
    const large = bootstrapPercentileDifference(tcgDowntimes(200, 5), tcgDowntimes(200, 6));
    for (const i of [small, large]) {
      expect(i.low).to.be.at.most(i.estimate);
      expect(i.high).to.be.at.least(i.estimate);
    }
    expect(large.high - large.low).to.be.below(small.high - small.low);
  });

  it('rejects an empty sample and a coverage outside (0, 1)', () => {
    expect(() => bootstrapPercentileDifference([], [1])).to.throw(RangeError);
    expect(() => bootstrapPercentileDifference([1], [1], { percentile: 95, resamples: 10, coverage: 1, seed: 1 })).to.throw(/coverage/);
  });
});
