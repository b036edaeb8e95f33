import { summarize, type Summary } from '../measure/statistics.js';
import { worstOutcome } from './outcomeRank.js';
import type { MigrationResult, Outcome, RunResults, TestResult } from './RunResults.js';

/** The matrix axes (issue: backend × NIC × vIOMMU × guest RAM), from test and migration labels. */
export const CELL_AXES = ['backend', 'nic', 'viommu', 'guestRamMiB'] as const;
export type CellAxis = (typeof CELL_AXES)[number];

/** The figures a cell is judged on: QEMU's downtime, the pause window, what the guest's clients saw. */
export const CELL_METRICS = ['downtimeMs', 'pauseWindowMs', 'guestOutageMs'] as const;
export type CellMetric = (typeof CELL_METRICS)[number];

export type CellLabels = Readonly<Record<CellAxis, string>>;

export interface CellSummary {
  /** "emulated / virtio-net-pci / none / 256": stable across runs, the key of history and trends. */
  readonly key: string;
  readonly labels: CellLabels;
  readonly outcome: Outcome | null;
  readonly outcomes: Readonly<Partial<Record<Outcome, number>>>;
  readonly testIds: readonly string[];
  readonly migrationCount: number;
  readonly completedCount: number;
  /** Per metric, the values of the cell's migrations (in run order) and their summary. */
  readonly values: Readonly<Record<CellMetric, readonly number[]>>;
  readonly summaries: Readonly<Partial<Record<CellMetric, Summary>>>;
}

export function cellLabelsOf(labels: Readonly<Record<string, string>>): CellLabels {
  return {
    backend: labels['backend'] ?? '-', nic: labels['nic'] ?? '-',
    viommu: labels['viommu'] ?? '-', guestRamMiB: labels['guestRamMiB'] ?? '-',
  };
}

export function cellKeyOf(labels: Readonly<Record<string, string>>): string {
  const cell = cellLabelsOf(labels);
  return CELL_AXES.map((axis) => cell[axis]).join(' / ');
}

/** Without matrix labels (a test skipped before it set them, or not a migration test) there is no cell. */
export function hasCell(labels: Readonly<Record<string, string>>): boolean {
  return CELL_AXES.some((axis) => labels[axis] !== undefined);
}

/**
 * The run's matrix: one summary per cell, in a stable order (by key). A test counts in the cell of
 * its labels; a migration in the cell of its own labels (a suite may label one migration apart).
 */
export function summarizeCells(results: Pick<RunResults, 'tests'>): CellSummary[] {
  const cells = new Map<string, { labels: CellLabels; tests: TestResult[]; migrations: MigrationResult[] }>();
  const cellFor = (labels: Readonly<Record<string, string>>) => {
    const key = cellKeyOf(labels);
    let cell = cells.get(key);
    if (cell === undefined) cells.set(key, cell = { labels: cellLabelsOf(labels), tests: [], migrations: [] });
    return cell;
  };
  for (const test of results.tests) {
    if (hasCell(test.labels)) cellFor(test.labels).tests.push(test);
    for (const m of test.migrations) if (hasCell(m.labels)) cellFor(m.labels).migrations.push(m);
  }
  return [...cells.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, { labels, tests, migrations }]) => {
    const values = Object.fromEntries(CELL_METRICS.map((metric) => [
      metric, migrations.map((m) => m.measurements[metric]).filter((v): v is number => v !== undefined),
    ])) as Record<CellMetric, number[]>;
    const summaries: Partial<Record<CellMetric, Summary>> = {};
    for (const metric of CELL_METRICS) if (values[metric].length > 0) summaries[metric] = summarize(values[metric]);
    const outcomes: Partial<Record<Outcome, number>> = {};
    for (const t of tests) outcomes[t.outcome] = (outcomes[t.outcome] ?? 0) + 1;
    return {
      key, labels, outcome: worstOutcome(tests.map((t) => t.outcome)), outcomes,
      testIds: tests.map((t) => t.id), migrationCount: migrations.length,
      completedCount: migrations.filter((m) => m.outcome === 'completed').length, values, summaries,
    };
  });
}
