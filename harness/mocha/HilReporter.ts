import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import { causeChain, HarnessError, InfrastructureError } from '../errors.js';
import type { MigrationResult, Outcome, RunResults, TestResult } from '../report/RunResults.js';
import './mochaContext.js';

const { EVENT_RUN_END, EVENT_TEST_BEGIN, EVENT_TEST_FAIL, EVENT_TEST_PASS, EVENT_TEST_PENDING, EVENT_SUITE_BEGIN } = Mocha.Runner.constants;

export interface HilReporterOptions {
  readonly results: RunResults;
  readonly runDir: string;
  readonly print: (line: string) => void;
  /** After Ctrl-C a test that fails was cut short by the user: ERROR, not a product FAIL. */
  readonly isInterrupted?: () => boolean;
  /** How the lab failed since then (an SSH connection to a host dropped), or null: a test failing after that is ERROR. */
  readonly labFailureSince?: (sinceMs: number) => string | null;
}

/** Classifies a failure (design.md §7): a lab failure is ERROR, never a product FAIL. */
export function failureOutcome(error: unknown): Outcome {
  return error instanceof HarnessError && error.isInfrastructure ? 'ERROR' : 'FAIL';
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

/**
 * The mocha reporter of `hil run`: prints each test and its migrations' figures as it goes, and
 * keeps results.json up to date after every test, so an interrupted run still leaves its results.
 */
export class HilReporter extends Mocha.reporters.Base {
  private readonly options: HilReporterOptions;

  constructor(runner: Mocha.Runner, mochaOptions: Mocha.MochaOptions & { reporterOptions?: HilReporterOptions }) {
    super(runner, mochaOptions);
    const options = mochaOptions.reporterOptions;
    if (options === undefined) throw new HarnessError('REPORTER_OPTIONS', 'HilReporter needs reporterOptions {results, runDir, print}');
    this.options = options;
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.title !== '') options.print(`${'  '.repeat(depth(suite) - 1)}${suite.title}`);
    });
    runner.on(EVENT_TEST_PASS, (test: Mocha.Test) => this.add(test, test.hilScope?.verdict?.outcome ?? (retriesOf(test) > 0 ? 'FLAKY' : 'PASS'), null));
    // Hooks fail as "tests" too; the lab failures that count for them are those since the test began.
    let testBeganAtMs = Date.now();
    runner.on(EVENT_TEST_BEGIN, () => { testBeganAtMs = Date.now(); });
    runner.on(EVENT_TEST_FAIL, (test: Mocha.Test, error: unknown) => {
      const labFailure = options.labFailureSince?.(testBeganAtMs) ?? null;
      // Whatever the test saw after the lab failed under it (a closed QMP client, a dead console) says nothing about the product.
      const seen = labFailure === null ? error : new InfrastructureError('LAB_FAILED_DURING_TEST', `${labFailure}; the failure is the lab's, not a product verdict`, { cause: error });
      this.add(test, options.isInterrupted?.() === true ? 'ERROR' : failureOutcome(seen), seen);
    });
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => this.add(test, 'SKIP', null));
    runner.on(EVENT_RUN_END, () => {
      options.results.isComplete = options.isInterrupted?.() !== true;
      options.results.endedAt = new Date().toISOString();
      this.save();
      const counts = countOutcomes(options.results.tests);
      options.print('');
      options.print(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
      if (counts.errors > 0) options.print(`(${counts.errors} of the failures are lab ERRORs, not product failures)`);
      options.print(`results: ${join(options.runDir, 'results.json')}`);
    });
  }

  private add(test: Mocha.Runnable, outcome: Outcome, error: unknown): void {
    const scope = test.hilScope;
    const result: TestResult = {
      id: test.fullTitle(), title: test.title, suite: test.parent?.fullTitle() ?? '', file: test.file ?? '',
      outcome, durationMs: test.duration ?? 0,
      skipReason: outcome === 'SKIP' ? test.hilSkipReason ?? (test.isPending() ? 'marked pending' : 'skipped') : null,
      error: error === null ? (scope?.verdict !== null && scope?.verdict !== undefined ? { message: scope.verdict.why, causeChain: [], code: null } : null)
        : { message: error instanceof Error ? error.message : String(error), causeChain: causeChain(error), code: error instanceof HarnessError ? error.code : null },
      references: scope?.references ?? [], labels: scope?.labels ?? {}, migrations: scope?.migrations ?? [],
      artifacts: scope?.artifacts ?? [], attempts: retriesOf(test) + 1,
      ...(scope !== undefined && scope.diagnoses.length > 0 ? { diagnosis: scope.diagnoses } : {}),
    };
    this.options.results.tests.push(result);
    const indent = '  '.repeat(depth(test.parent) + 0);
    const mark = { PASS: 'ok  ', FLAKY: 'FLKY', SKIP: 'skip', FAIL: 'FAIL', ERROR: 'ERR ', REPRODUCED: 'REPR', FIXED: 'FIXD', UNEXPECTED: 'UNEX' }[outcome];
    this.options.print(`${indent}${mark} ${test.title}${result.durationMs > 0 ? ` (${(result.durationMs / 1000).toFixed(1)} s)` : ''}${result.skipReason !== null ? ` — ${result.skipReason}` : ''}`);
    for (const m of result.migrations) this.options.print(`${indent}       ${formatMigration(m)}`);
    if (result.error !== null) this.options.print(`${indent}       ${result.error.causeChain.join('\n         caused by: ') || result.error.message}`);
    this.save();
  }

  private save(): void {
    mkdirSync(this.options.runDir, { recursive: true, mode: 0o700 });
    const file = join(this.options.runDir, 'results.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(this.options.results, null, 2), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
}

/** Mocha's typings hide currentRetry(), which its own reporters use. */
function retriesOf(test: Mocha.Runnable): number {
  return (test as unknown as { currentRetry(): number }).currentRetry();
}

function depth(suite: Mocha.Suite | undefined): number {
  let d = 0;
  for (let s = suite; s !== undefined && !s.root; s = s.parent) d++;
  return d;
}

export function countOutcomes(tests: readonly TestResult[]): { passed: number; failed: number; skipped: number; errors: number } {
  const of = (...outcomes: Outcome[]) => tests.filter((t) => outcomes.includes(t.outcome)).length;
  return { passed: of('PASS', 'FLAKY', 'REPRODUCED', 'FIXED'), failed: of('FAIL', 'ERROR', 'UNEXPECTED'), skipped: of('SKIP'), errors: of('ERROR') };
}
