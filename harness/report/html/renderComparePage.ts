import { MEASUREMENT_UNITS } from '../../migration/computeMeasurements.js';
import { findRegressions, type RegressionOptions } from '../findRegressions.js';
import { historyEntryOf } from '../HistoryEntry.js';
import { CELL_METRICS, summarizeCells, type CellSummary } from '../matrixCells.js';
import type { RunResults } from '../RunResults.js';
import { badge, ms } from './format.js';
import type { DistributionData } from './PageData.js';
import { pageShell } from './pageShell.js';
import { fileHref, html, type SafeHtml } from './safeHtml.js';
import { regressionSection } from './trendSection.js';

export interface CompareInput {
  /** The reference (e.g. the previous release) and the candidate. */
  readonly a: RunResults;
  readonly b: RunResults;
  /** From the page to each run's folder (the page sits in reports/, so "<runId>/"). */
  readonly linkA: string;
  readonly linkB: string;
  readonly regression: RegressionOptions;
}

/**
 * The release comparison: two runs side by side per cell (outcome, p50/p95 of each metric and the
 * change), B judged against A as its baseline, the tests whose outcome changed, and per cell the
 * downtime distributions of both runs in one plot.
 */
export function renderComparePage(input: CompareInput): string {
  const { a, b } = input;
  const cellsA = summarizeCells(a);
  const cellsB = summarizeCells(b);
  const keys = [...new Set([...cellsA, ...cellsB].map((c) => c.key))].sort();
  const regressions = findRegressions(historyEntryOf(b), historyEntryOf(a), input.regression);
  const distributions: DistributionData[] = [];
  const plots: SafeHtml[] = [];
  keys.forEach((key, i) => {
    const ca = cellsA.find((c) => c.key === key);
    const cb = cellsB.find((c) => c.key === key);
    const values = (cell: CellSummary | undefined) => cell?.values.downtimeMs ?? [];
    if (values(ca).length === 0 && values(cb).length === 0) return;
    const elementId = `compare-dist-${i}`;
    distributions.push({ elementId, unit: MEASUREMENT_UNITS.downtimeMs, series: [{ label: `A ${a.runId}`, values: values(ca) }, { label: `B ${b.runId}`, values: values(cb) }] });
    plots.push(html`<h3>${key}</h3><div class="plot" id="${elementId}" data-plot="distribution"></div>`);
  });
  const changed = [...new Set([...a.tests, ...b.tests].map((t) => t.id))].sort().flatMap((id) => {
    const ta = a.tests.find((t) => t.id === id);
    const tb = b.tests.find((t) => t.id === id);
    return ta?.outcome === tb?.outcome ? [] : [{ id, a: ta?.outcome ?? null, b: tb?.outcome ?? null }];
  });
  const body = html`<h1>vfio-hil: ${a.runId} (A) vs ${b.runId} (B)</h1>
<table><tr><th></th><th>A: <a href="${input.linkA}index.html">${a.runId}</a></th><th>B: <a href="${input.linkB}index.html">${b.runId}</a></th></tr>
${row('lab', (r) => `${r.lab.name} (${r.lab.kind})`)}
${row('QEMU', (r) => distinct(r.hosts.map((h) => h.facts?.qemu.version ?? null)))}
${row('kernel', (r) => distinct(r.hosts.map((h) => h.facts?.kernelRelease ?? null)))}
${row('harness', (r) => r.harnessVersion)}
${row('started', (r) => r.startedAt)}
${row('tests', (r) => Object.entries(r.tests.reduce<Record<string, number>>((n, t) => ({ ...n, [t.outcome]: (n[t.outcome] ?? 0) + 1 }), {})).map(([o, n]) => `${n} ${o}`).join(', '))}
</table>
<h2 id="cells">Per cell</h2>
<table><tr><th rowspan="2">cell</th><th colspan="2">outcome</th>${CELL_METRICS.map((m) => html`<th colspan="3">${m} p50 / p95</th>`)}</tr>
<tr><th>A</th><th>B</th>${CELL_METRICS.map(() => html`<th>A</th><th>B</th><th>Δ p95</th>`)}</tr>
${keys.map((key) => {
  const ca = cellsA.find((c) => c.key === key);
  const cb = cellsB.find((c) => c.key === key);
  const flagged = regressions.findings.some((f) => f.isRegression && f.cell === key);
  return html`<tr${flagged ? html` class="regression"` : ''}><td>${key}${flagged ? ' ▲' : ''}</td><td>${badge(ca?.outcome ?? null)}</td><td>${badge(cb?.outcome ?? null)}</td>
${CELL_METRICS.map((m) => {
  const sa = ca?.summaries[m];
  const sb = cb?.summaries[m];
  const delta = sa !== undefined && sb !== undefined && sa.p95 > 0 ? `${sb.p95 >= sa.p95 ? '+' : ''}${(((sb.p95 - sa.p95) / sa.p95) * 100).toFixed(0)} %` : '–';
  return html`<td class="num">${sa === undefined ? '–' : `${ms(sa.p50)} / ${ms(sa.p95)}`}</td><td class="num">${sb === undefined ? '–' : `${ms(sb.p50)} / ${ms(sb.p95)}`}</td><td class="num">${delta}</td>`;
})}</tr>`;
})}
</table>
${regressionSection(regressions, '')}
<h2 id="changed">Tests whose outcome changed (${changed.length})</h2>
${changed.length === 0 ? html`<p>None.</p>` : html`<table><tr><th>test</th><th>A</th><th>B</th></tr>${changed.map((c) => html`<tr><td>${c.id}</td><td>${badge(c.a)}</td><td>${badge(c.b)}</td></tr>`)}</table>`}
<h2 id="distributions">Downtime distributions per cell, A vs B</h2>
<p class="legend-note">Each step is one migration; where a line crosses the p50 / p95 guides is that percentile.</p>
${plots.length === 0 ? html`<p class="note">Neither run has downtime figures.</p>` : plots}`;
  return pageShell(`vfio-hil ${a.runId} vs ${b.runId}`, body, { timelines: [], distributions, trend: null });

  function row(name: string, value: (r: RunResults) => string): SafeHtml {
    return html`<tr><td>${name}</td><td>${value(a)}</td><td>${value(b)}</td></tr>`;
  }
}

function distinct(values: readonly (string | null)[]): string {
  return [...new Set(values.filter((v): v is string => v !== null))].join(', ') || 'unknown';
}

/** Where the compare page of two runs goes: beside the run folders, so both link as "<runId>/". */
export function comparePageName(runA: string, runB: string): string {
  return `compare-${fileHref(runA)}-vs-${fileHref(runB)}.html`;
}
