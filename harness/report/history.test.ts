import { expect } from 'chai';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeTrend } from './computeTrend.js';
import { defaultBaseline, findRegressions } from './findRegressions.js';
import { cellLabels, syntheticRun, type SyntheticTest } from '../../test/support/syntheticRun.js';
import { historyEntryOf } from './HistoryEntry.js';
import { HistoryStore, wholeRuns } from './HistoryStore.js';

const VIRTIO = cellLabels('virtio-net-pci', 'none');
const E1000E = cellLabels('e1000e', 'intel-iommu');

function night(day: number, tests: SyntheticTest[], extra: Parameters<typeof syntheticRun>[3] = {}) {
  return historyEntryOf(syntheticRun(`202601${String(day).padStart(2, '0')}-020000-0000`, `2026-01-${String(day).padStart(2, '0')}T02:00:00.000Z`, tests, extra));
}

function cells(virtioMs: number[], e1000eMs: number[], outcomes: { virtio?: SyntheticTest['outcome']; e1000e?: SyntheticTest['outcome']; flaky?: SyntheticTest['outcome'] } = {}): SyntheticTest[] {
  return [
    { title: 'virtio ping-pong', outcome: outcomes.virtio ?? 'PASS', labels: VIRTIO, downtimesMs: virtioMs },
    { title: 'e1000e ping-pong', outcome: outcomes.e1000e ?? 'PASS', labels: E1000E, downtimesMs: e1000eMs },
    { title: 'sometimes', outcome: outcomes.flaky ?? 'PASS', labels: VIRTIO },
  ];
}

describe('history, trend and regression check (synthetic runs)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'hil-history-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('HistoryStore appends JSON lines, keeps the latest line of a run, and reports a torn line instead of dropping it', () => {
    const store = new HistoryStore(join(dir, 'history.jsonl'));
    store.append(night(2, cells([10], [20])));
    store.append(night(1, cells([10], [20])));
    store.append(night(2, cells([11], [21])));
    appendFileSync(store.file, '{"formatVersion":1,"runId":"torn');
    const read = store.read();
    expect(read.entries.map((e) => e.runId)).to.deep.equal(['20260101-020000-0000', '20260102-020000-0000']);
    expect(read.entries[1]!.cells.find((c) => c.key === 'emulated / virtio-net-pci / none / 256')!.values.downtimeMs).to.deep.equal([11]);
    expect(read.problems).to.have.length(1);
    expect(read.problems[0]).to.match(/history\.jsonl:4: not JSON/);
  });

  it('trend: per cell p50/p95 over the last N runs, pass rate, flaky and flipping tests', () => {
    const entries = [
      night(1, cells([10, 12, 14, 16], [30, 30])),
      night(2, cells([10, 12, 14, 40], [30, 32], { flaky: 'FLAKY' })),
      night(3, cells([11, 12], [], { e1000e: 'FAIL', flaky: 'FAIL' })),
      night(4, cells([9, 10], [31], { e1000e: 'PASS' })),
    ];
    const trend = computeTrend(entries, { lastRuns: 3, metric: 'downtimeMs' });
    expect(trend.runs.map((r) => r.runId)).to.deep.equal(['20260102-020000-0000', '20260103-020000-0000', '20260104-020000-0000']);
    const virtio = trend.cells.find((c) => c.key === 'emulated / virtio-net-pci / none / 256')!;
    expect(virtio.points.map((p) => p?.p50)).to.deep.equal([13, 11.5, 9.5]);
    expect(virtio.points[0]!.p95).to.be.closeTo(36.1, 1e-9);
    // virtio ping-pong passes 3/3; "sometimes" is FLAKY (a pass), FAIL, PASS.
    expect(virtio.passRate).to.be.closeTo(5 / 6, 1e-9);
    const e1000e = trend.cells.find((c) => c.key === 'emulated / e1000e / intel-iommu / 256')!;
    expect(e1000e.points[1]).to.include({ p50: null, outcome: 'FAIL' });
    expect(e1000e.passRate).to.be.closeTo(2 / 3, 1e-9);
    expect(trend.flaky.map((f) => [f.id, f.flakyRuns, f.isFlipping])).to.deep.equal([
      ['synthetic suite e1000e ping-pong', 0, true],
      ['synthetic suite sometimes', 1, true],
    ]);
  });

  it('regression: a verdict that got worse counts; a p95 from four migrations per cell is not judged', () => {
    const baseline = night(1, cells([10, 10, 11, 12], [30, 31]));
    const current = night(2, cells([10, 11, 12, 20], [31, 31.5], { e1000e: 'FAIL' }));
    const report = findRegressions(current, baseline, { thresholdPercent: 20, minDeltaMs: 5, minSamples: 10, metrics: ['downtimeMs'] });
    expect(report.regressionCount).to.equal(1);
    expect(report.findings.filter((f) => f.isRegression).map((f) => [f.kind, f.cell, f.testId])).to.deep.equal([
      ['outcome', 'emulated / e1000e / intel-iommu / 256', 'synthetic suite e1000e ping-pong'],
    ]);
    expect(report.findings.filter((f) => f.kind === 'not-enough-data').map((f) => f.text)).to.deep.equal([
      'downtimeMs: not enough data (2 → 2 migrations, 10 needed in each run); p95 30.9 → 31.5 ms not judged',
      'downtimeMs: not enough data (4 → 4 migrations, 10 needed in each run); p95 11.8 → 18.8 ms not judged',
    ]);
  });

  it('lab ERRORs and skips are noted, never counted as regressions; PASS → FLAKY and FIXED → REPRODUCED are', () => {
    const baseline = night(1, [...cells([10], [30]), { title: 'bug', outcome: 'FIXED' }]);
    const current = night(2, [...cells([10], [30], { virtio: 'ERROR', e1000e: 'SKIP', flaky: 'FLAKY' }), { title: 'bug', outcome: 'REPRODUCED' }]);
    const report = findRegressions(current, baseline);
    // One migration per cell: the p95s are not judged (findRegressions.test.ts); the verdicts are.
    expect(report.findings.filter((f) => f.kind !== 'not-enough-data').map((f) => [f.kind, f.isRegression, f.testId, f.text])).to.deep.equal([
      ['no-verdict', false, 'synthetic suite virtio ping-pong', 'PASS → ERROR (lab error: no product verdict)'],
      ['not-run', false, 'synthetic suite e1000e ping-pong', 'PASS → SKIP'],
      ['outcome', true, 'synthetic suite sometimes', 'PASS → FLAKY'],
      ['outcome', true, 'synthetic suite bug', 'FIXED → REPRODUCED'],
    ]);
    expect(report.unjudgedCount).to.equal(1);
  });

  it('the default baseline is the latest complete whole run of the same lab before; merged shards count once', () => {
    const older = night(1, cells([10], [30]));
    const incomplete = night(2, cells([10], [30]), { isComplete: false });
    const otherLab = night(3, cells([10], [30]), { lab: { name: 'rack-7', kind: 'physical', file: 'rack7.yaml' } });
    const shard1 = night(4, cells([10], [30]), { shard: { index: 1, count: 2 } });
    const merged = { ...night(5, cells([10], [30])), mergedFrom: [shard1.runId] };
    const current = night(6, cells([10], [30]));
    const entries = [older, incomplete, otherLab, shard1, merged, current];
    expect(wholeRuns(entries).map((e) => e.runId)).to.not.include(shard1.runId);
    expect(defaultBaseline(entries, current)?.runId).to.equal(merged.runId);
    expect(defaultBaseline(entries, older)).to.equal(null);
    expect(computeTrend(entries, { lastRuns: 10, metric: 'downtimeMs', lab: 'synthetic' }).runs.map((r) => r.runId)).to.deep.equal([older.runId, incomplete.runId, merged.runId, current.runId]);
  });

  it('the default baseline ran the same QEMU builds: a build without a fix is not compared with the build with it', () => {
    const onBuild = (day: number, versionLine: string) => {
      const results = syntheticRun(`202601${String(day).padStart(2, '0')}-020000-0000`, `2026-01-${String(day).padStart(2, '0')}T02:00:00.000Z`, [{ title: 'bug', outcome: day === 3 ? 'REPRODUCED' : 'FIXED' }]);
      const hosts = results.hosts.map((host) => ({ ...host, facts: { ...host.facts!, qemu: { ...host.facts!.qemu, version: '10.2.2', versionLine } } }));
      return historyEntryOf({ ...results, hosts });
    };
    const withFix = onBuild(1, 'QEMU emulator version 10.2.2 (vfio-hil 53ab +9 upstream +1 local)');
    const withFixAgain = onBuild(2, 'QEMU emulator version 10.2.2 (vfio-hil 53ab +9 upstream +1 local)');
    const withoutFix = onBuild(3, 'QEMU emulator version 10.2.2 (vfio-hil 13f8 +8 upstream without cac33cb5533a +1 local)');
    const entries = [withFix, withFixAgain, withoutFix];
    expect(withFix.qemuVersions).to.deep.equal(withoutFix.qemuVersions);
    expect(defaultBaseline(entries, withoutFix)).to.equal(null);
    expect(defaultBaseline(entries, withFixAgain)?.runId).to.equal(withFix.runId);
    // Entries written before builds were recorded: matched on versions with each other only (in a
    // stage run the build without the fix was compared with an older run of the build with it).
    const { qemuBuilds: _a, ...legacyWithFix } = withFix;
    const { qemuBuilds: _b, ...legacyAgain } = withFixAgain;
    expect(defaultBaseline([legacyWithFix, withoutFix], withoutFix)).to.equal(null);
    expect(defaultBaseline([legacyWithFix, legacyAgain], legacyAgain)?.runId).to.equal(withFix.runId);
  });
});
