import type { Trend } from '../computeTrend.js';
import type { RegressionReport } from '../findRegressions.js';
import { badge, ms } from './format.js';
import type { TrendChartData } from './PageData.js';
import { html, type SafeHtml } from './safeHtml.js';

/** Regressions against the baseline run, or why there is no comparison. */
export function regressionSection(report: RegressionReport | null, why: string): SafeHtml {
  if (report === null) return html`<h2 id="regressions">Regression check</h2><p class="note">${why}</p>`;
  const o = report.options;
  const regressions = report.findings.filter((f) => f.isRegression);
  const notes = report.findings.filter((f) => !f.isRegression);
  return html`<h2 id="regressions">Regression check against ${report.baselineRunId}</h2>
<p class="note">A cell regresses when both runs have at least ${o.minSamples} migrations in it and the p95 of ${o.metrics.join(', ')} grew by more than ${o.thresholdPercent} % and ${o.minDeltaMs} ms even at the low end of the 90 % bootstrap interval of the change (seeded, so the same runs give the same verdict); a test regresses when its verdict got worse. The noise column is half that interval's width: how far this lab's p95 moves between runs. Lab errors and skips are noted, not counted.</p>
${regressions.length === 0 ? html`<p>No regression.</p>` : html`<ul>${regressions.map((f) => html`<li class="regression">${f.cell ?? ''}${f.testId !== null ? html` <span class="note">${f.testId}</span>` : ''}: ${f.text}</li>`)}</ul>`}
${comparisonTable(report.comparisons)}
${notes.length > 0 ? html`<details><summary>${notes.length} note(s)</summary><ul>${notes.map((f) => html`<li>${f.testId ?? f.cell ?? ''}: ${f.text}</li>`)}</ul></details>` : ''}`;
}

function comparisonTable(comparisons: RegressionReport['comparisons']): SafeHtml {
  if (comparisons.length === 0) return html``;
  const verdict = { regression: 'regression', 'within-noise': 'within noise', 'not-enough-data': 'not enough data' } as const;
  return html`<table><tr><th>cell</th><th>metric</th><th>migrations</th><th>p95 baseline → now</th><th>90 % interval of the change</th><th>allowed</th><th>noise</th><th>verdict</th></tr>
${comparisons.map((c) => html`<tr${c.verdict === 'regression' ? html` class="regression"` : ''}><td>${c.cell}</td><td>${c.metric}</td><td class="num">${c.samplesBefore} → ${c.samplesAfter}</td><td class="num">${ms(c.p95BeforeMs)} → ${ms(c.p95AfterMs)}</td><td class="num">${c.intervalMs === null ? '–' : `${ms(c.intervalMs.low)} … ${ms(c.intervalMs.high)}`}</td><td class="num">+${ms(c.allowedMs)}</td><td class="num">${c.noiseMs === null ? '–' : `±${ms(c.noiseMs)}`}</td><td>${verdict[c.verdict]}</td></tr>`)}</table>`;
}

/** Per cell over the last runs: p50/p95 of the metric (plot and table), the pass rate, flaky tests. */
export function trendSection(trend: Trend | null, problems: readonly string[]): { html: SafeHtml; data: TrendChartData | null } {
  const problemNote = problems.length > 0 ? html`<p class="warn">History lines skipped: ${problems.join('; ')}</p>` : '';
  if (trend === null || trend.runs.length < 2) {
    return { html: html`<h2 id="trend">Trend</h2>${problemNote}<p class="note">Fewer than two runs of this lab in the history: no trend yet.</p>`, data: null };
  }
  const data: TrendChartData = {
    elementId: 'trend-plot', metric: `${trend.metric} p95 —, p50 - -`, runIds: trend.runs.map((r) => r.runId),
    // Cells that never produced a figure in the window (always skipped) have nothing to draw.
    cells: trend.cells.filter((c) => c.points.some((p) => p?.p95 !== null && p !== null))
      .map((c) => ({ key: c.key, p50: c.points.map((p) => p?.p50 ?? null), p95: c.points.map((p) => p?.p95 ?? null) })),
  };
  const body = html`<h2 id="trend">Trend over the last ${trend.runs.length} runs</h2>${problemNote}
<div class="plot" id="trend-plot" data-plot="trend"></div>
<table><tr><th>cell</th><th>pass rate</th>${trend.runs.map((r) => html`<th title="QEMU ${r.qemuVersions.join(', ')}">${r.runId}${r.isComplete ? '' : ' (incomplete)'}</th>`)}</tr>
${trend.cells.map((c) => html`<tr><td>${c.key}</td><td class="num">${c.passRate === null ? '–' : `${Math.round(c.passRate * 100)} % of ${c.verdictCount}`}</td>${c.points.map((p) => (p === null ? html`<td class="note">not run</td>` : html`<td>${badge(p.outcome)} ${ms(p.p50)} / ${ms(p.p95)} ms</td>`))}</tr>`)}
</table>
<p class="legend-note">${trend.metric} p50 / p95 per run.</p>
<h3>Flaky tests</h3>
${trend.flaky.length === 0 ? html`<p>None in this window.</p>` : html`<table><tr><th>test</th><th>FLAKY runs</th><th>passed and failed</th><th>outcomes, oldest first</th></tr>
${trend.flaky.map((t) => html`<tr><td>${t.id}</td><td class="num">${t.flakyRuns}</td><td>${t.isFlipping ? 'yes' : 'no'}</td><td>${t.outcomes.map((o) => badge(o))}</td></tr>`)}</table>`}`;
  return { html: body, data };
}
