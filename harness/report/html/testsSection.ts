import { displayOrder, isFailing, isFlaky } from '../outcomeRank.js';
import type { MigrationResult, TestResult } from '../RunResults.js';
import { cellKeyOf, hasCell } from '../matrixCells.js';
import { earlierAttemptsBlock, idAndExpectation } from './attemptsSection.js';
import { anchor, badge, durationText, ms } from './format.js';
import type { TimelineData } from './PageData.js';
import { fileHref, html, type SafeHtml } from './safeHtml.js';
import { outageNote, phaseDurations, timelineData } from './timelineData.js';

export interface TestsSection {
  readonly failures: SafeHtml;
  readonly others: SafeHtml;
  readonly timelines: TimelineData[];
}

/**
 * Every test, failures (FAIL, UNEXPECTED, ERROR) first and open, each with its cause chain, its
 * migrations' figures and timelines, and links to its artifacts. `linkPrefix` leads from the page
 * to the run folder (empty for the run's own index.html).
 */
export function testsSection(tests: readonly TestResult[], runDir: string, linkPrefix = ''): TestsSection {
  const timelines: TimelineData[] = [];
  const ordered = [...tests].sort((a, b) => displayOrder(a.outcome) - displayOrder(b.outcome));
  const entry = (test: TestResult, index: number): SafeHtml => {
    const isOpen = isFailing(test.outcome);
    const migrationParts = test.migrations.map((m, j) => {
      const elementId = `timeline-${index}-${j}`;
      const data = timelineData(runDir, m, elementId);
      if (data !== null) timelines.push(data);
      return html`<h4>${m.id} ${m.direction}: ${m.outcome ?? 'not started'}${m.reason !== null ? ` — ${m.reason}` : ''}</h4>
${data === null ? html`<p class="note">The migration record ${m.recordArtifact} is missing: no timeline.</p>`
    : html`<div class="plot" id="${elementId}" data-plot="timeline"></div>
<p class="legend-note">phases (source query-migrate): ${phaseDurations(data)}. Lines: QMP events (solid source, dashed destination; red STOP, green RESUME, purple VFIO_MIGRATION). Red band: longest gap between probe replies (guest outage). Green ticks: probe replies. Orange squares: phase hooks. <a href="${linkPrefix}${fileHref(m.recordArtifact)}">record</a></p>
${outageNote(data.outage)}`}`;
    });
    return html`<details class="${isFailing(test.outcome) ? `failure ${test.outcome}` : 'test'}" id="${anchor('test', test.id)}"${isOpen ? html` open` : ''}>
<summary>${badge(test.outcome)} <b>${test.title}</b> <span class="note">${test.suite} · ${hasCell(test.labels) ? cellKeyOf(test.labels) : 'no cell'} · ${durationText(test.durationMs)}${test.attempts > 1 ? ` · ${test.attempts} attempts${isFlaky(test) ? ' · FLAKY' : ''}` : ''}</span></summary>
${idAndExpectation(test)}
${test.outcome === 'ERROR' ? html`<p><b>Lab error, not a product verdict:</b> the harness or the hosts failed before the product could be judged.</p>` : ''}
${test.skipReason !== null ? html`<p>Skipped: ${test.skipReason}</p>` : ''}
${test.error !== null ? html`<pre>${test.error.code !== null ? `[${test.error.code}] ` : ''}${(test.error.causeChain.length > 0 ? test.error.causeChain : [test.error.message]).join('\n  caused by: ')}</pre>` : ''}
${test.references.length > 0 ? html`<p>References: ${test.references.map((r) => (/^https?:\/\//.test(r) ? html`<a href="${r}">${r}</a> ` : html`<code>${r}</code> `))}</p>` : ''}
${test.migrations.length > 0 ? migrationsTable(test.migrations) : ''}
${migrationParts}
${test.artifacts.length > 0 ? html`<p>Artifacts: ${test.artifacts.map((a) => html`<a href="${linkPrefix}${fileHref(a.path)}" title="${a.description}">${a.path.split('/').pop()}</a> `)}</p>` : ''}
${earlierAttemptsBlock(test, linkPrefix)}
</details>`;
  };
  const failing = ordered.filter((t) => isFailing(t.outcome));
  const others = ordered.filter((t) => !isFailing(t.outcome));
  const failures = failing.length === 0
    ? html`<h2 id="failures">Failures</h2><p>None.</p>`
    : html`<h2 id="failures">Failures (${failing.length})</h2>${failing.map((t) => entry(t, tests.indexOf(t)))}`;
  const rest = html`<h2 id="tests">Other tests (${others.length})</h2>${others.map((t) => entry(t, tests.indexOf(t)))}`;
  return { failures, others: rest, timelines };
}

function migrationsTable(migrations: readonly MigrationResult[]): SafeHtml {
  return html`<table><tr><th>migration</th><th>outcome</th><th>downtime ms</th><th>pause window ms</th><th>guest outage ms</th><th>probes lost</th><th>total ms</th><th>RAM MiB</th><th>VFIO bytes</th><th>dirty syncs</th></tr>
${migrations.map((m) => {
  const x = m.measurements;
  return html`<tr><td>${m.id} ${m.direction}</td><td>${m.outcome ?? 'not started'}</td><td class="num">${ms(x.downtimeMs)}</td><td class="num">${ms(x.pauseWindowMs)}</td><td class="num">${ms(x.guestOutageMs)}</td><td class="num">${x.probeLost ?? '–'}</td><td class="num">${ms(x.totalTimeMs)}</td><td class="num">${x.ramBytes === undefined ? '–' : (x.ramBytes / 1048576).toFixed(1)}</td><td class="num">${x.vfioBytes ?? '–'}</td><td class="num">${x.dirtySyncCount ?? '–'}</td></tr>`;
})}</table>`;
}
