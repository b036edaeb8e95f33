import { percentile } from '../measure/statistics.js';
import { wholeRuns } from './HistoryStore.js';
import type { HistoryEntry } from './HistoryEntry.js';
import type { CellLabels, CellMetric } from './matrixCells.js';
import { isPassing, verdictRank } from './outcomeRank.js';
import type { Outcome } from './RunResults.js';

export interface TrendPoint {
  readonly runId: string;
  readonly startedAt: string;
  readonly count: number;
  readonly p50: number | null;
  readonly p95: number | null;
  readonly outcome: Outcome | null;
}

export interface CellTrend {
  readonly key: string;
  readonly labels: CellLabels;
  /** One point per run of the window, oldest first; null where the cell was not run. */
  readonly points: readonly (TrendPoint | null)[];
  /** Passing tests / tests with a product verdict, over the window; null when none had one. */
  readonly passRate: number | null;
  readonly verdictCount: number;
}

export interface FlakyTest {
  readonly id: string;
  readonly cell: string | null;
  /** Outcome in each run of the window, oldest first (null: not run). */
  readonly outcomes: readonly (Outcome | null)[];
  /** Runs where it failed first and passed on retry. */
  readonly flakyRuns: number;
  /** True when it both passed and failed across the window. */
  readonly isFlipping: boolean;
}

export interface Trend {
  readonly lab: string | null;
  readonly metric: CellMetric;
  readonly runs: readonly { readonly runId: string; readonly startedAt: string; readonly isComplete: boolean; readonly qemuVersions: readonly string[] }[];
  readonly cells: readonly CellTrend[];
  readonly flaky: readonly FlakyTest[];
}

export interface TrendOptions {
  readonly lastRuns: number;
  readonly metric: CellMetric;
  /** Only runs of this lab (trends across labs compare different hardware). */
  readonly lab?: string;
  /** The window ends at this run (the report of an older run shows the trend up to it). */
  readonly untilRunId?: string;
}

/** Per cell over the last N runs: the metric's p50/p95, the pass rate, and the flaky tests. */
export function computeTrend(entries: readonly HistoryEntry[], options: TrendOptions): Trend {
  let runs = wholeRuns(entries).filter((e) => options.lab === undefined || e.lab.name === options.lab);
  if (options.untilRunId !== undefined) {
    const end = runs.findIndex((e) => e.runId === options.untilRunId);
    if (end >= 0) runs = runs.slice(0, end + 1);
  }
  runs = runs.slice(-Math.max(1, options.lastRuns));
  const keys = [...new Set(runs.flatMap((r) => r.cells.map((c) => c.key)))].sort();
  const cells = keys.map((key): CellTrend => {
    let labels: CellLabels | undefined;
    let passed = 0;
    let verdicts = 0;
    const points = runs.map((run): TrendPoint | null => {
      const cell = run.cells.find((c) => c.key === key);
      if (cell === undefined) return null;
      labels = cell.labels;
      for (const test of run.tests.filter((t) => t.cell === key && verdictRank(t.outcome) !== null)) {
        verdicts++;
        if (isPassing(test.outcome)) passed++;
      }
      const values = cell.values[options.metric] ?? [];
      return {
        runId: run.runId, startedAt: run.startedAt, count: values.length, outcome: cell.outcome,
        p50: values.length > 0 ? percentile(values, 50) : null, p95: values.length > 0 ? percentile(values, 95) : null,
      };
    });
    return { key, labels: labels!, points, passRate: verdicts === 0 ? null : passed / verdicts, verdictCount: verdicts };
  });
  const testIds = [...new Set(runs.flatMap((r) => r.tests.map((t) => t.id)))].sort();
  const flaky = testIds.map((id): FlakyTest => {
    const seen = runs.map((r) => r.tests.find((t) => t.id === id) ?? null);
    const outcomes = seen.map((t) => t?.outcome ?? null);
    const judged = outcomes.filter((o): o is Outcome => o !== null && verdictRank(o) !== null);
    return {
      id, cell: seen.find((t) => t !== null)?.cell ?? null, outcomes,
      flakyRuns: outcomes.filter((o) => o === 'FLAKY').length,
      isFlipping: judged.some(isPassing) && judged.some((o) => !isPassing(o)),
    };
  }).filter((t) => t.flakyRuns > 0 || t.isFlipping);
  return {
    lab: options.lab ?? null, metric: options.metric,
    runs: runs.map((r) => ({ runId: r.runId, startedAt: r.startedAt, isComplete: r.isComplete, qemuVersions: r.qemuVersions })),
    cells, flaky,
  };
}
