import { MEASUREMENT_UNITS } from '../../migration/computeMeasurements.js';
import type { Finding } from '../findRegressions.js';
import { CELL_METRICS, type CellSummary } from '../matrixCells.js';
import { anchor, badge, ms } from './format.js';
import type { DistributionData } from './PageData.js';
import { html, type SafeHtml } from './safeHtml.js';

const METRIC_TITLES: Readonly<Record<string, string>> = {
  downtimeMs: 'downtime (QEMU query-migrate, source clock)',
  pauseWindowMs: 'pause window (source STOP → destination RESUME, offset-corrected)',
  guestOutageMs: 'guest outage (longest gap between probe replies)',
};

/**
 * The matrix: rows backend × NIC, columns vIOMMU × guest RAM; each cell its worst outcome and
 * downtime p50/p95 over its migrations, flagged when the regression check found it worse.
 */
export function matrixSection(cells: readonly CellSummary[], findings: readonly Finding[]): SafeHtml {
  if (cells.length === 0) return html`<h2 id="matrix">Matrix</h2><p class="note">No test of this run carries matrix labels (backend, nic, viommu, guestRamMiB).</p>`;
  const rows = [...new Set(cells.map((c) => `${c.labels.backend} · ${c.labels.nic}`))].sort();
  const columns = [...new Set(cells.map((c) => `vIOMMU ${c.labels.viommu} · ${c.labels.guestRamMiB} MiB`))].sort();
  const at = (row: string, column: string) => cells.find((c) => `${c.labels.backend} · ${c.labels.nic}` === row && `vIOMMU ${c.labels.viommu} · ${c.labels.guestRamMiB} MiB` === column);
  const cellHtml = (cell: CellSummary | undefined): SafeHtml => {
    if (cell === undefined) return html`<td class="note">—</td>`;
    const d = cell.summaries.downtimeMs;
    const o = cell.summaries.guestOutageMs;
    const flagged = findings.filter((f) => f.isRegression && f.cell === cell.key);
    return html`<td id="${anchor('cell', cell.key)}" data-cell="${cell.key}">${badge(cell.outcome)}
      ${Object.entries(cell.outcomes).map(([outcome, n]) => html` <span class="note">${n} ${outcome}</span>`)}<br>
      ${d === undefined ? html`<span class="note">no downtime figures</span>` : html`downtime p50/p95 <b>${ms(d.p50)} / ${ms(d.p95)} ms</b>`}<br>
      ${o === undefined ? '' : html`<span class="note">outage p95 ${ms(o.p95)} ms</span><br>`}
      <span class="note">${cell.completedCount}/${cell.migrationCount} migrations completed</span>
      ${flagged.length > 0 ? html`<br><span class="regression" title="${flagged.map((f) => f.text).join('\n')}">▲ regression</span>` : ''}</td>`;
  };
  return html`<h2 id="matrix">Matrix</h2>
<table class="matrix"><tr><th>backend · NIC</th>${columns.map((c) => html`<th>${c}</th>`)}</tr>
${rows.map((row) => html`<tr><th>${row}</th>${columns.map((column) => cellHtml(at(row, column)))}</tr>`)}
</table>`;
}

/** Downtime distributions per cell: one empirical-CDF plot per metric and a table of its percentiles. */
export function distributionSection(cells: readonly CellSummary[]): { html: SafeHtml; data: DistributionData[] } {
  const data: DistributionData[] = [];
  const parts: SafeHtml[] = [];
  for (const metric of CELL_METRICS) {
    const withValues = cells.filter((c) => c.values[metric].length > 0);
    if (withValues.length === 0) continue;
    const elementId = `dist-${metric}`;
    data.push({ elementId, unit: MEASUREMENT_UNITS[metric], series: withValues.map((c) => ({ label: c.key, values: c.values[metric] })) });
    parts.push(html`<h3>${METRIC_TITLES[metric] ?? metric}</h3>
<div class="plot" id="${elementId}" data-plot="distribution"></div>
<table><tr><th>cell</th><th>n</th><th>min</th><th>p50</th><th>p95</th><th>max</th><th>values (${MEASUREMENT_UNITS[metric]})</th></tr>
${withValues.map((c) => {
  const s = c.summaries[metric]!;
  return html`<tr><td>${c.key}</td><td class="num">${s.count}</td><td class="num">${ms(s.min)}</td><td class="num">${ms(s.p50)}</td><td class="num">${ms(s.p95)}</td><td class="num">${ms(s.max)}</td><td><code>${c.values[metric].map((v) => ms(v)).join(' ')}</code></td></tr>`;
})}</table>`);
  }
  const body = parts.length === 0
    ? html`<h2 id="distributions">Distributions</h2><p class="note">No migration produced downtime figures.</p>`
    : html`<h2 id="distributions">Distributions per cell</h2><p class="legend-note">Each step is one migration; where a line crosses the p50 / p95 guides is that percentile.</p>${parts}`;
  return { html: body, data };
}
