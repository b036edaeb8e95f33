import type { Trend } from './computeTrend.js';
import { describeComparison, type RegressionReport } from './findRegressions.js';
import type { TestResult } from './RunResults.js';

function fixed(value: number | null): string {
  if (value === null) return '-';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** `hil report trend` on the terminal: per cell p50/p95 per run, pass rate, flaky tests. */
export function formatTrend(trend: Trend): string[] {
  if (trend.runs.length === 0) return [`No runs${trend.lab !== null ? ` of lab "${trend.lab}"` : ''} in the history yet.`];
  const lines = [`Trend of ${trend.metric} p50/p95 (ms) over ${trend.runs.length} run(s)${trend.lab !== null ? ` of lab "${trend.lab}"` : ''}, oldest first:`];
  trend.runs.forEach((r, i) => lines.push(`  [${i + 1}] ${r.runId}${r.isComplete ? '' : ' (incomplete)'}  QEMU ${r.qemuVersions.join(', ') || '?'}`));
  for (const cell of trend.cells) {
    lines.push(`${cell.key}: pass rate ${cell.passRate === null ? '-' : `${Math.round(cell.passRate * 100)} % of ${cell.verdictCount}`}`);
    lines.push(`  ${cell.points.map((p, i) => `[${i + 1}] ${p === null ? 'not run' : `${fixed(p.p50)}/${fixed(p.p95)} ${p.outcome ?? ''}`.trim()}`).join('  ')}`);
  }
  if (trend.flaky.length === 0) lines.push('Flaky tests: none.');
  else {
    lines.push('Flaky tests:');
    for (const t of trend.flaky) lines.push(`  ${t.id}: ${t.flakyRuns} FLAKY run(s)${t.isFlipping ? ', passed and failed' : ''} (${t.outcomes.map((o) => o ?? '-').join(' ')})`);
  }
  return lines;
}

/** The regression check's findings, one a line, regressions first. */
export function formatRegressions(report: RegressionReport): string[] {
  const o = report.options;
  const lines = [`Regression check of ${report.currentRunId} against ${report.baselineRunId} (p95 of ${o.metrics.join(', ')}: low end of the 90 % bootstrap interval of the change above +${o.thresholdPercent} % and +${o.minDeltaMs} ms, at least ${o.minSamples} migrations per cell in each run; verdicts):`];
  const regressions = report.findings.filter((f) => f.isRegression);
  if (regressions.length === 0) lines.push('  no regression');
  for (const f of regressions) lines.push(`  REGRESSION ${f.cell ?? ''}${f.testId !== null ? ` ${f.testId}` : ''}: ${f.text}`);
  for (const c of report.comparisons.filter((x) => x.verdict === 'within-noise')) lines.push(`  within noise ${c.cell}: ${describeComparison(c)}`);
  for (const f of report.findings.filter((x) => !x.isRegression)) lines.push(`  note ${f.testId ?? f.cell ?? ''}: ${f.text}`);
  return lines;
}

/** FLAKY tests of a run, each with what its earlier attempts ended in: a retry is never silent. */
export function formatFlaky(flaky: readonly TestResult[]): string[] {
  if (flaky.length === 0) return ['FLAKY: none'];
  return [`FLAKY: ${flaky.length} test(s) reached their verdict only after a lab ERROR:`, ...flaky.map((t) => {
    const earlier = (t.earlierAttempts ?? []).map((a) => `attempt ${a.attempt} ${a.outcome}${a.error?.code !== null && a.error?.code !== undefined ? ` [${a.error.code}]` : ''}`);
    return `  FLAKY ${t.id}: ${t.outcome} on attempt ${t.attempts}${earlier.length > 0 ? ` (${earlier.join(', ')})` : ''}`;
  })];
}
