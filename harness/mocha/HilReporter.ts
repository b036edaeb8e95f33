import { join } from 'node:path';
import Mocha from 'mocha';
import { causeChain, HarnessError } from '../errors.js';
import { isFlaky } from '../report/outcomeRank.js';
import { saveRunResults } from '../report/runFolders.js';
import type { AttemptResult, MigrationResult, Outcome, RunResults, TestResult } from '../report/RunResults.js';
import { FailureJudge } from './FailureJudge.js';
import { attemptIndexOf, firstAttemptOf } from './retryOnlyLabErrors.js';
import { testIdOf } from './testId.js';
import './mochaContext.js';

export { failureOutcome } from './FailureJudge.js';

const { EVENT_RUN_END, EVENT_TEST_BEGIN, EVENT_TEST_FAIL, EVENT_TEST_PASS, EVENT_TEST_PENDING, EVENT_TEST_RETRY, EVENT_SUITE_BEGIN } = Mocha.Runner.constants;

export interface HilReporterOptions {
  readonly results: RunResults;
  readonly runDir: string;
  readonly print: (line: string) => void;
  /** Judges failures lab ERROR or product FAIL; the same judge decides what is retried. */
  readonly judge: FailureJudge;
  /** The folder ids are made relative to (the project's dist/). */
  readonly distRoot: string;
}

export function formatMigration(m: MigrationResult): string {
  const x = m.measurements;
  const parts: string[] = [];
  if (x.downtimeMs !== undefined) parts.push(`downtime ${x.downtimeMs} ms`);
  if (x.pauseWindowMs !== undefined) parts.push(`pause window ${x.pauseWindowMs.toFixed(1)} ms`);
  if (x.guestOutageMs !== undefined) parts.push(`guest outage ${x.guestOutageMs.toFixed(1)} ms (${x.probeLost ?? 0} probes lost)`);
  if (x.totalTimeMs !== undefined) parts.push(`total ${x.totalTimeMs} ms`);
  if (x.ramBytes !== undefined) parts.push(`RAM ${(x.ramBytes / 1048576).toFixed(1)} MiB`);
  if (x.vfioBytes !== undefined) parts.push(`VFIO ${x.vfioBytes} B`);
  return `${m.id} ${m.direction} ${m.outcome ?? 'not started'}${m.reason !== null ? ` (${m.reason})` : ''}: ${parts.join(', ')}`;
}

const MARK: Record<Outcome, string> = { PASS: 'ok  ', FLAKY: 'FLKY', SKIP: 'skip', FAIL: 'FAIL', ERROR: 'ERR ', REPRODUCED: 'REPR', FIXED: 'FIXD', UNEXPECTED: 'UNEX' };

/**
 * The mocha reporter of `hil run`: prints each test and its migrations' figures as it goes, and
 * keeps results.json up to date after every test, so an interrupted run still leaves its results.
 * A retried attempt (mocha's retry event) is kept whole with its error, migrations and artifacts.
 */
export class HilReporter extends Mocha.reporters.Base {
  private readonly options: HilReporterOptions;
  private readonly earlierAttempts = new WeakMap<Mocha.Runnable, AttemptResult[]>();

  constructor(runner: Mocha.Runner, mochaOptions: Mocha.MochaOptions & { reporterOptions?: HilReporterOptions }) {
    super(runner, mochaOptions);
    const options = mochaOptions.reporterOptions;
    if (options === undefined) throw new HarnessError('REPORTER_OPTIONS', 'HilReporter needs reporterOptions {results, runDir, print, judge, distRoot}');
    this.options = options;
    options.judge.observe(runner, EVENT_TEST_BEGIN);
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.title !== '') options.print(`${'  '.repeat(depth(suite) - 1)}${suite.title}`);
    });
    runner.on(EVENT_TEST_PASS, (test: Mocha.Test) => {
      const isRetried = attemptIndexOf(test) > 0;
      this.add(test, test.hilScope?.verdict?.outcome ?? (isRetried ? 'FLAKY' : 'PASS'), null);
    });
    runner.on(EVENT_TEST_RETRY, (test: Mocha.Test, error: unknown) => this.keepAttempt(test, error));
    runner.on(EVENT_TEST_FAIL, (test: Mocha.Test, error: unknown) => {
      const judgement = options.judge.judge(error);
      this.add(test, judgement.outcome, judgement.seen);
    });
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => this.add(test, 'SKIP', null));
    runner.on(EVENT_RUN_END, () => {
      options.results.isComplete = !options.judge.isInterrupted;
      options.results.endedAt = new Date().toISOString();
      this.save();
      options.print('');
      options.print(summaryLine(options.results.tests));
      const errors = options.results.tests.filter((t: TestResult) => t.outcome === 'ERROR').length;
      if (errors > 0) options.print(`(${errors} of the failures are lab ERRORs, not product failures)`);
      options.print(`results: ${join(options.runDir, 'results.json')}`);
    });
  }

  /** An attempt mocha will retry: only lab ERRORs get here (retryOnlyLabErrors). */
  private keepAttempt(test: Mocha.Test, error: unknown): void {
    const judgement = this.options.judge.judge(error);
    const scope = test.hilScope;
    const first = firstAttemptOf(test);
    const attempts = this.earlierAttempts.get(first) ?? [];
    const attempt: AttemptResult = {
      attempt: attemptIndexOf(test) + 1, outcome: judgement.outcome, durationMs: test.duration ?? 0,
      error: errorOf(judgement.seen),
      // The scope's arrays, not copies: the attempt's teardown (after this event) still adds its logs.
      migrations: scope?.migrations ?? [], artifacts: scope?.artifacts ?? [],
      ...(scope !== undefined && scope.diagnoses.length > 0 ? { diagnosis: scope.diagnoses } : {}),
    };
    attempts.push(attempt);
    this.earlierAttempts.set(first, attempts);
    const indent = '  '.repeat(depth(test.parent));
    this.options.print(`${indent}${MARK[attempt.outcome]} ${test.title} — attempt ${attempt.attempt} (${(attempt.durationMs / 1000).toFixed(1)} s), retrying: ${attempt.error?.causeChain.join('\n         caused by: ') || attempt.error?.message}`);
    for (const m of attempt.migrations) this.options.print(`${indent}       ${formatMigration(m)}`);
  }

  private add(test: Mocha.Runnable, outcome: Outcome, error: unknown): void {
    const scope = test.hilScope;
    const earlierAttempts = this.earlierAttempts.get(firstAttemptOf(test)) ?? [];
    const verdictError = scope?.verdict !== null && scope?.verdict !== undefined ? { message: scope.verdict.why, causeChain: [], code: null } : null;
    const result: TestResult = {
      id: testIdOf(test, this.options.distRoot) ?? test.fullTitle(), title: test.title, suite: test.parent?.fullTitle() ?? '', file: test.file ?? '',
      outcome, durationMs: test.duration ?? 0,
      skipReason: outcome === 'SKIP' ? test.hilSkipReason ?? (test.isPending() ? 'marked pending' : 'skipped') : null,
      error: error === null ? verdictError : errorOf(error),
      references: scope?.references ?? [], labels: scope?.labels ?? {}, migrations: scope?.migrations ?? [],
      artifacts: scope?.artifacts ?? [], attempts: earlierAttempts.length + 1, earlierAttempts,
      ...(scope !== undefined && scope.diagnoses.length > 0 ? { diagnosis: scope.diagnoses } : {}),
    };
    this.options.results.tests.push(result);
    const indent = '  '.repeat(depth(test.parent));
    const retried = earlierAttempts.length > 0 ? ` — attempt ${result.attempts}${isFlaky(result) ? ', FLAKY: an earlier attempt was a lab ERROR' : ''}` : '';
    this.options.print(`${indent}${MARK[outcome]} ${test.title}${result.durationMs > 0 ? ` (${(result.durationMs / 1000).toFixed(1)} s)` : ''}${result.skipReason !== null ? ` — ${result.skipReason}` : ''}${retried}`);
    for (const m of result.migrations) this.options.print(`${indent}       ${formatMigration(m)}`);
    if (result.error !== null) this.options.print(`${indent}       ${result.error.causeChain.join('\n         caused by: ') || result.error.message}`);
    this.save();
  }

  private save(): void {
    saveRunResults(this.options.runDir, this.options.results);
  }
}

function errorOf(error: unknown): NonNullable<TestResult['error']> {
  return { message: error instanceof Error ? error.message : String(error), causeChain: causeChain(error), code: error instanceof HarnessError ? error.code : null };
}

function depth(suite: Mocha.Suite | undefined): number {
  let d = 0;
  for (let s = suite; s !== undefined && !s.root; s = s.parent) d++;
  return d;
}

export function countOutcomes(tests: readonly TestResult[]): { passed: number; failed: number; skipped: number; errors: number; flaky: number } {
  const of = (...outcomes: Outcome[]) => tests.filter((t) => outcomes.includes(t.outcome)).length;
  return { passed: of('PASS', 'FLAKY', 'REPRODUCED', 'FIXED'), failed: of('FAIL', 'ERROR', 'UNEXPECTED'), skipped: of('SKIP'), errors: of('ERROR'), flaky: tests.filter(isFlaky).length };
}

/** "5 passed (1 FLAKY), 0 failed, 2 skipped": the line CI logs show; FLAKY is never folded into "passed" unseen. */
export function summaryLine(tests: readonly TestResult[]): string {
  const c = countOutcomes(tests);
  return `${c.passed} passed${c.flaky > 0 ? ` (${c.flaky} FLAKY: passed only after a lab ERROR)` : ''}, ${c.failed} failed, ${c.skipped} skipped`;
}
