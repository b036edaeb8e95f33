import { compareCellMetric, type CellComparison } from './compareCellMetric.js';
import { wholeRuns } from './HistoryStore.js';
import type { HistoryEntry } from './HistoryEntry.js';
import type { CellMetric } from './matrixCells.js';
import { verdictRank } from './outcomeRank.js';

export interface RegressionOptions {
  /** A cell regresses when its p95 grew by more than this (percent of the baseline's p95)... */
  readonly thresholdPercent: number;
  /** ...and by more than this many ms: a 4 → 6 ms move is +50 % but timer noise under TCG. */
  readonly minDeltaMs: number;
  /** Fewer migrations than this in either run: "not enough data", never a regression. */
  readonly minSamples: number;
  readonly metrics: readonly CellMetric[];
}

export const DEFAULT_REGRESSION_OPTIONS: RegressionOptions = { thresholdPercent: 20, minDeltaMs: 5, minSamples: 10, metrics: ['downtimeMs'] };

export interface Finding {
  readonly kind: 'p95' | 'not-enough-data' | 'outcome' | 'no-verdict' | 'not-run';
  /** True for a regression (fails `hil report --check`); false for a note worth reading. */
  readonly isRegression: boolean;
  readonly cell: string | null;
  readonly testId: string | null;
  readonly text: string;
}

export interface RegressionReport {
  readonly currentRunId: string;
  readonly baselineRunId: string;
  readonly options: RegressionOptions;
  readonly findings: readonly Finding[];
  /** Every cell and metric both runs have, with its interval and noise, judged or not. */
  readonly comparisons: readonly CellComparison[];
  readonly regressionCount: number;
  /** Tests that had a verdict in the baseline and a lab ERROR now: the check could not judge them. */
  readonly unjudgedCount: number;
}

/**
 * Compares a run with its baseline: per cell, each metric's p95 change against a relative
 * threshold plus an absolute slack, judged only with enough migrations and only when the change
 * stands out of both runs' spread (compareCellMetric.ts); per test, a product verdict that got worse (PASS → FLAKY → FAIL, FIXED →
 * REPRODUCED). Lab ERRORs and skips are not verdicts (design.md §7): they are noted, not counted.
 */
export function findRegressions(current: HistoryEntry, baseline: HistoryEntry, options: RegressionOptions = DEFAULT_REGRESSION_OPTIONS): RegressionReport {
  const findings: Finding[] = [];
  const comparisons: CellComparison[] = [];
  for (const base of baseline.cells) {
    const now = current.cells.find((c) => c.key === base.key);
    if (now === undefined) continue;
    for (const metric of options.metrics) {
      const before = base.values[metric] ?? [];
      const after = now.values[metric] ?? [];
      if (before.length === 0 || after.length === 0) continue;
      const c = compareCellMetric(base.key, metric, before, after, options);
      comparisons.push(c);
      if (c.verdict === 'not-enough-data') {
        findings.push({
          kind: 'not-enough-data', isRegression: false, cell: base.key, testId: null,
          text: `${metric}: not enough data (${c.samplesBefore} → ${c.samplesAfter} migrations, ${options.minSamples} needed in each run); p95 ${round(c.p95BeforeMs)} → ${round(c.p95AfterMs)} ms not judged`,
        });
      } else if (c.verdict === 'regression') {
        findings.push({ kind: 'p95', isRegression: true, cell: base.key, testId: null, text: describeComparison(c) });
      }
    }
  }
  for (const before of baseline.tests) {
    const rankBefore = verdictRank(before.outcome);
    if (rankBefore === null) continue;
    const now = current.tests.find((t) => t.id === before.id);
    if (now === undefined) {
      if (current.shard === null) findings.push({ kind: 'not-run', isRegression: false, cell: before.cell, testId: before.id, text: `${before.outcome} in the baseline, not in this run` });
      continue;
    }
    const rankNow = verdictRank(now.outcome);
    if (rankNow === null) {
      findings.push({
        kind: now.outcome === 'ERROR' ? 'no-verdict' : 'not-run', isRegression: false, cell: now.cell, testId: now.id,
        text: `${before.outcome} → ${now.outcome}${now.outcome === 'ERROR' ? ' (lab error: no product verdict)' : ''}`,
      });
    } else if (rankNow > rankBefore) {
      findings.push({ kind: 'outcome', isRegression: true, cell: now.cell, testId: now.id, text: `${before.outcome} → ${now.outcome}` });
    }
  }
  return {
    currentRunId: current.runId, baselineRunId: baseline.runId, options, findings, comparisons,
    regressionCount: findings.filter((f) => f.isRegression).length,
    unjudgedCount: findings.filter((f) => f.kind === 'no-verdict').length,
  };
}

/** The run to compare with by default: the latest complete whole run of the same lab before it. */
export function defaultBaseline(entries: readonly HistoryEntry[], current: HistoryEntry): HistoryEntry | null {
  const candidates = wholeRuns(entries).filter((e) => e.runId !== current.runId && !current.mergedFrom.includes(e.runId)
    && e.lab.name === current.lab.name && e.isComplete && e.startedAt < current.startedAt && isSameQemu(e, current));
  return candidates[candidates.length - 1] ?? null;
}

/**
 * A run is compared with one on the same QEMU builds: a run on the build without a fix against
 * one on the build with it would report the bug it reproduces as a regression.
 */
export function isSameQemu(a: HistoryEntry, b: HistoryEntry): boolean {
  const same = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (a.qemuBuilds !== undefined && b.qemuBuilds !== undefined) return same(a.qemuBuilds, b.qemuBuilds);
  // An entry written before builds were recorded can stand for another such entry only: its
  // version alone cannot tell a source build with a fix from one without it.
  return a.qemuBuilds === undefined && b.qemuBuilds === undefined && same(a.qemuVersions, b.qemuVersions);
}

/** A judged comparison in one line: the change, its interval, what was allowed and the lab's noise. */
export function describeComparison(c: CellComparison): string {
  const interval = c.intervalMs === null ? '' : `; 90 % interval of the change ${signedMs(c.intervalMs.low)} … ${signedMs(c.intervalMs.high)} ms, noise ±${round(c.noiseMs ?? 0)} ms`;
  return `${c.metric} p95 ${round(c.p95BeforeMs)} → ${round(c.p95AfterMs)} ms (${signedPercent(c.p95AfterMs, c.p95BeforeMs)}${interval}; allowed +${round(c.allowedMs)} ms; ${c.samplesBefore} → ${c.samplesAfter} migrations)`;
}

function signedMs(ms: number): string {
  return `${ms >= 0 ? '+' : '−'}${round(Math.abs(ms))}`;
}

function round(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

function signedPercent(after: number, before: number): string {
  if (before === 0) return 'from 0';
  const change = ((after - before) / before) * 100;
  return `${change >= 0 ? '+' : ''}${change.toFixed(0)} %`;
}
