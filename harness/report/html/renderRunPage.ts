import type { Trend } from '../computeTrend.js';
import type { RegressionReport } from '../findRegressions.js';
import { summarizeCells } from '../matrixCells.js';
import { missingShards } from '../mergeShards.js';
import type { Outcome, RunResults } from '../RunResults.js';
import { badge, durationText } from './format.js';
import { distributionSection, matrixSection } from './matrixSection.js';
import { pageShell } from './pageShell.js';
import { html, type SafeHtml } from './safeHtml.js';
import { isFlaky } from '../outcomeRank.js';
import { testsSection } from './testsSection.js';
import { expectationSection } from './attemptsSection.js';
import { regressionSection, trendSection } from './trendSection.js';

export interface RunPageInput {
  readonly results: RunResults;
  readonly runDir: string;
  readonly trend: Trend | null;
  readonly historyProblems: readonly string[];
  readonly regressions: RegressionReport | null;
  /** Why there is no regression check, when there is none. */
  readonly noBaselineReason: string;
}

/** index.html of a run: summary, failures first, matrix, distributions, regressions, trend, every test. */
export function renderRunPage(input: RunPageInput): string {
  const { results } = input;
  const cells = summarizeCells(results);
  const tests = testsSection(results.tests, input.runDir);
  const distributions = distributionSection(cells);
  const trend = trendSection(input.trend, input.historyProblems);
  const body = html`${header(results)}
${summary(results, input.regressions)}
${expectationSection(results)}
${tests.failures}
${matrixSection(cells, input.regressions?.findings ?? [])}
${regressionSection(input.regressions, input.noBaselineReason)}
${distributions.html}
${trend.html}
${tests.others}
${hostsSection(results)}`;
  return pageShell(`vfio-hil ${results.runId}`, body, { timelines: tests.timelines, distributions: distributions.data, trend: trend.data });
}

function header(results: RunResults): SafeHtml {
  const qemu = [...new Set(results.hosts.map((h) => h.facts?.qemu.version ?? null).filter((v) => v !== null))];
  const kernels = [...new Set(results.hosts.map((h) => h.facts?.kernelRelease ?? null).filter((v) => v !== null))];
  const durationMs = results.endedAt === null ? null : Date.parse(results.endedAt) - Date.parse(results.startedAt);
  const missing = missingShards(results);
  return html`<h1>vfio-hil run ${results.runId}</h1>
${results.isComplete ? '' : html`<p class="warn">This run is incomplete (interrupted${missing.length > 0 ? `, or shard(s) ${missing.join(', ')} missing from the merge` : ''}): its figures cover only the tests listed.</p>`}
<table class="kv">
<tr><td>lab</td><td>${results.lab.name} (${results.lab.kind}) · ${results.lab.file}</td></tr>
<tr><td>host pair</td><td>${results.pair === null ? 'several (merged shards)' : `${results.pair.name}: ${results.pair.source} → ${results.pair.destination}`}</td></tr>
<tr><td>QEMU · kernel</td><td>${qemu.join(', ') || 'unknown'} · ${kernels.join(', ') || 'unknown'}</td></tr>
<tr><td>started · ended</td><td>${results.startedAt} · ${results.endedAt ?? 'not ended'}${durationMs === null ? '' : ` (${durationText(durationMs)})`}</td></tr>
<tr><td>harness · command</td><td>vfio-hil ${results.harnessVersion} · <code>${results.commandLine.join(' ')}</code></td></tr>
${results.sources !== undefined ? html`<tr><td>sources</td><td>${results.sources.commit ?? 'unknown commit'}${results.sources.isDirty === true ? html` <span class="warn">with uncommitted changes: ${results.sources.dirtyPaths.join(', ')}</span>` : ''}${results.sources.note !== null ? ` (${results.sources.note})` : ''}</td></tr>` : ''}
${results.shard !== null ? html`<tr><td>shard</td><td>${results.shard.index} of ${results.shard.count}</td></tr>` : ''}
${results.mergedFrom !== undefined ? html`<tr><td>merged from</td><td>${results.mergedFrom.map((m) => `${m.runId}${m.shard !== null ? ` (shard ${m.shard.index}/${m.shard.count})` : ''}`).join(', ')}</td></tr>` : ''}
</table>`;
}

function summary(results: RunResults, regressions: RegressionReport | null): SafeHtml {
  const counts = new Map<Outcome, number>();
  for (const t of results.tests) counts.set(t.outcome, (counts.get(t.outcome) ?? 0) + 1);
  const errors = counts.get('ERROR') ?? 0;
  const flaky = results.tests.filter(isFlaky).length;
  const migrations = results.tests.flatMap((t) => t.migrations);
  return html`<h2 id="summary">Summary</h2>
<p class="summary">${results.tests.length} tests: ${[...counts.entries()].map(([o, n]) => html`<span>${badge(o)} ${n}</span>`)}
· ${migrations.length} migrations, ${migrations.filter((m) => m.outcome === 'completed').length} completed</p>
${flaky > 0 ? html`<p class="warn">${flaky} test(s) FLAKY: they reached their verdict only after a lab ERROR; their earlier attempts are shown with them.</p>` : ''}
${errors > 0 ? html`<p class="warn">${errors} test(s) ended in a lab ERROR: the lab failed, not the product; they carry no verdict.</p>` : ''}
${regressions !== null && regressions.regressionCount > 0 ? html`<p class="regression">${regressions.regressionCount} regression(s) against ${regressions.baselineRunId}: see <a href="#regressions">Regression check</a>.</p>` : ''}`;
}

function hostsSection(results: RunResults): SafeHtml {
  return html`<h2 id="hosts">Hosts (preflight at the start of the run)</h2>
${results.hosts.map((h) => html`<h3>${h.host} <span class="note">${h.where}</span></h3>
<table class="kv">
<tr><td>kernel</td><td>${h.facts?.kernelRelease ?? 'unknown'}</td></tr>
<tr><td>QEMU</td><td>${h.facts?.qemu.versionLine ?? h.facts?.qemu.version ?? 'unknown'}</td></tr>
<tr><td>capabilities</td><td>${h.capabilities.map((c) => html`<span title="${c.reason}">${c.isPresent ? '✔' : '✘'} ${c.capability}</span> `)}</td></tr>
<tr><td>checks failed</td><td>${h.checks.filter((c) => !c.isOk).map((c) => `${c.name}: ${c.detail}`).join('; ') || 'none'}</td></tr>
</table>`)}`;
}
