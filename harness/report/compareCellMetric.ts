import { bootstrapPercentileDifference, DEFAULT_BOOTSTRAP } from '../measure/bootstrap.js';
import { percentile } from '../measure/statistics.js';
import type { CellMetric } from './matrixCells.js';

export interface CellRule {
  readonly thresholdPercent: number;
  readonly minDeltaMs: number;
  readonly minSamples: number;
}

/** One metric of one cell, baseline vs current, with the spread that decides whether the change is real. */
export interface CellComparison {
  readonly cell: string;
  readonly metric: CellMetric;
  readonly samplesBefore: number;
  readonly samplesAfter: number;
  readonly p95BeforeMs: number;
  readonly p95AfterMs: number;
  /** How much the p95 may grow: the larger of the threshold (percent of the baseline's p95) and the slack. */
  readonly allowedMs: number;
  /** 90 % bootstrap interval of p95(after) − p95(before); null with too few samples to resample. */
  readonly intervalMs: { readonly low: number; readonly high: number } | null;
  /** Half the interval's width: how far the p95 difference wanders between runs of this lab. */
  readonly noiseMs: number | null;
  readonly verdict: 'regression' | 'within-noise' | 'not-enough-data';
}

/**
 * A cell regresses only when both runs have at least `minSamples` migrations and the lower end of
 * the 90 % bootstrap interval of the p95 difference (a 95 % one-sided bound) exceeds `allowedMs`:
 * the p95 grew by more than allowed even at the low end of what the spread of both runs explains.
 */
export function compareCellMetric(cell: string, metric: CellMetric, before: readonly number[], after: readonly number[], rule: CellRule): CellComparison {
  const p95BeforeMs = percentile(before, 95);
  const p95AfterMs = percentile(after, 95);
  const allowedMs = Math.max((p95BeforeMs * rule.thresholdPercent) / 100, rule.minDeltaMs);
  const base = { cell, metric, samplesBefore: before.length, samplesAfter: after.length, p95BeforeMs, p95AfterMs, allowedMs };
  if (before.length < rule.minSamples || after.length < rule.minSamples) {
    return { ...base, intervalMs: null, noiseMs: null, verdict: 'not-enough-data' };
  }
  const interval = bootstrapPercentileDifference(before, after, DEFAULT_BOOTSTRAP);
  return {
    ...base,
    intervalMs: { low: interval.low, high: interval.high },
    noiseMs: (interval.high - interval.low) / 2,
    verdict: interval.low > allowedMs ? 'regression' : 'within-noise',
  };
}
