import { CELL_METRICS, summarizeCells, type CellLabels, type CellMetric } from './matrixCells.js';
import { cellKeyOf, hasCell } from './matrixCells.js';
import type { Outcome, RunResults } from './RunResults.js';

export const HISTORY_FORMAT_VERSION = 1;

/**
 * One run as the history keeps it (a line of reports/history.jsonl): enough to draw trends and
 * judge regressions without the run folder, which CI may have thrown away by then.
 */
export interface HistoryEntry {
  readonly formatVersion: typeof HISTORY_FORMAT_VERSION;
  readonly runId: string;
  readonly lab: { readonly name: string; readonly kind: string };
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly isComplete: boolean;
  readonly harnessVersion: string;
  /** Distinct QEMU versions and kernels of the run's hosts ("what was tested"). */
  readonly qemuVersions: readonly string[];
  /**
   * Distinct QEMU version lines of the run's hosts: two source builds of one version (with and
   * without a patch) differ here, by the identity their version line carries. Absent in entries
   * written before it was recorded.
   */
  readonly qemuBuilds?: readonly string[];
  readonly kernels: readonly string[];
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** Run ids this (merged) run combines; a shard listed here is not counted on its own. */
  readonly mergedFrom: readonly string[];
  readonly tests: readonly HistoryTest[];
  readonly cells: readonly HistoryCell[];
}

export interface HistoryTest {
  readonly id: string;
  readonly outcome: Outcome;
  readonly attempts: number;
  readonly cell: string | null;
}

export interface HistoryCell {
  readonly key: string;
  readonly labels: CellLabels;
  readonly outcome: Outcome | null;
  readonly outcomes: Readonly<Partial<Record<Outcome, number>>>;
  /** Every migration's figure, so percentiles can be taken over any window later. */
  readonly values: Readonly<Record<CellMetric, readonly number[]>>;
}

export function historyEntryOf(results: RunResults): HistoryEntry {
  const facts = results.hosts.flatMap((h) => (h.facts === null ? [] : [h.facts]));
  const distinct = (values: readonly (string | null)[]) => [...new Set(values.filter((v): v is string => v !== null))].sort();
  return {
    formatVersion: HISTORY_FORMAT_VERSION,
    runId: results.runId,
    lab: { name: results.lab.name, kind: results.lab.kind },
    startedAt: results.startedAt, endedAt: results.endedAt, isComplete: results.isComplete,
    harnessVersion: results.harnessVersion,
    qemuVersions: distinct(facts.map((f) => f.qemu.version)),
    qemuBuilds: distinct(facts.map((f) => f.qemu.versionLine ?? f.qemu.version)),
    kernels: distinct(facts.map((f) => f.kernelRelease)),
    shard: results.shard,
    mergedFrom: (results.mergedFrom ?? []).map((m) => m.runId),
    tests: results.tests.map((t) => ({ id: t.id, outcome: t.outcome, attempts: t.attempts, cell: hasCell(t.labels) ? cellKeyOf(t.labels) : null })),
    cells: summarizeCells(results).map((c) => ({
      key: c.key, labels: c.labels, outcome: c.outcome, outcomes: c.outcomes,
      values: Object.fromEntries(CELL_METRICS.map((m) => [m, c.values[m]])) as Record<CellMetric, number[]>,
    })),
  };
}
