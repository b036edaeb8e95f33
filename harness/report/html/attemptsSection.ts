import type { AttemptResult, ExpectationReport, RunResults, TestResult } from '../RunResults.js';
import { isFlaky } from '../outcomeRank.js';
import { anchor, badge, durationText, ms } from './format.js';
import { fileHref, html, type SafeHtml } from './safeHtml.js';

/**
 * A retried test's earlier attempts, each whole: outcome, error, migrations and artifacts. A retry
 * must not hide what an earlier attempt saw (a 2992 ms downtime, a guest that reset).
 */
export function earlierAttemptsBlock(test: TestResult, linkPrefix: string): SafeHtml {
  const attempts = test.earlierAttempts ?? [];
  if (attempts.length === 0) return html``;
  return html`<div class="attempts"><p><b>${isFlaky(test) ? `FLAKY: attempt ${test.attempts} reached the verdict above; ` : ''}${attempts.length} earlier attempt(s), each a lab ERROR and retried:</b></p>
${attempts.map((a) => attemptBlock(a, linkPrefix))}</div>`;
}

function attemptBlock(attempt: AttemptResult, linkPrefix: string): SafeHtml {
  const error = attempt.error;
  return html`<details class="attempt" open><summary>attempt ${attempt.attempt}: ${badge(attempt.outcome)} <span class="note">${durationText(attempt.durationMs)}</span></summary>
${error !== null ? html`<pre>${error.code !== null ? `[${error.code}] ` : ''}${(error.causeChain.length > 0 ? error.causeChain : [error.message]).join('\n  caused by: ')}</pre>` : ''}
${attempt.migrations.length > 0 ? html`<table><tr><th>migration</th><th>outcome</th><th>downtime ms</th><th>pause window ms</th><th>guest outage ms</th><th>total ms</th></tr>
${attempt.migrations.map((m) => html`<tr><td>${m.id} ${m.direction}</td><td>${m.outcome ?? 'not started'}${m.reason !== null ? ` — ${m.reason}` : ''}</td><td class="num">${ms(m.measurements.downtimeMs)}</td><td class="num">${ms(m.measurements.pauseWindowMs)}</td><td class="num">${ms(m.measurements.guestOutageMs)}</td><td class="num">${ms(m.measurements.totalTimeMs)}</td></tr>`)}</table>` : ''}
${attempt.artifacts.length > 0 ? html`<p>Artifacts: ${attempt.artifacts.map((a) => html`<a href="${linkPrefix}${fileHref(a.path)}" title="${a.description}">${a.path.split('/').slice(-2).join('/')}</a> `)}</p>` : ''}
</details>`;
}

/** The line under a test's title: its stable id, and with --expect what was expected. */
export function idAndExpectation(test: TestResult): SafeHtml {
  const e = test.expectation;
  return html`<p class="note">id <code>${test.id}</code>${e === undefined ? '' : html` · <span class="${e.isMet ? 'expect-met' : 'regression'}">${e.isMet ? 'as expected' : 'NOT as expected'}: ${e.text}</span>`}</p>`;
}

/** Expected vs actual for the whole run (`hil run --expect`): every difference, first on the page. */
export function expectationSection(results: RunResults): SafeHtml {
  const report: ExpectationReport | undefined = results.expectations;
  if (report === undefined) return html``;
  const byId = new Map(results.tests.map((t) => [t.id, t]));
  return html`<h2 id="expectations">Expectations (${report.file})</h2>
<p class="${report.mismatches.length === 0 ? 'summary' : 'regression'}">${report.matched} as expected, ${report.mismatches.length} different${report.notInRun.length > 0 ? `, ${report.notInRun.length} named but not in this run` : ''}.</p>
${report.mismatches.length === 0 ? '' : html`<table><tr><th>test</th><th>difference</th><th>expected</th><th>actual</th><th>why</th></tr>
${report.mismatches.map((m) => html`<tr><td>${byId.has(m.id) ? html`<a href="#${anchor('test', m.id)}">${m.id}</a>` : m.id}</td><td>${m.kind}</td><td>${m.expected === null ? 'not named' : m.expected.outcome}${m.expected?.link !== null && m.expected?.link !== undefined ? html` <a href="${m.expected.link}">link</a>` : ''}</td><td>${m.actual === null ? 'no result' : badge(m.actual)}</td><td>${m.text}</td></tr>`)}</table>`}`;
}
