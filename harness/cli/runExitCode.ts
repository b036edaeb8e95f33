import { isFlaky } from '../report/outcomeRank.js';
import type { RunResults } from '../report/RunResults.js';
import { ExitCode } from './ExitCode.js';

export interface RunEnd {
  readonly isPublished: boolean;
  readonly isInterrupted: boolean;
  /** More FLAKY tests than this fail the run (`--max-flaky`). */
  readonly maxFlaky: number;
}

/**
 * The exit code of `hil run` and the lines that say why, worst first: a product failure (1), then
 * a lab failure (2), then a difference from the expectation file (4), then nothing judged (3).
 * With an expectation file, a failure it names as known is not a product failure, and a run whose
 * every test matched is judged even when they all skipped.
 */
export function runExitCode(results: RunResults, end: RunEnd): { code: number; reasons: string[] } {
  const expectations = results.expectations;
  const isUnexpectedFailure = (id: string) => expectations === undefined || expectations.mismatches.some((m) => m.id === id);
  const failed = results.tests.filter((t) => (t.outcome === 'FAIL' || t.outcome === 'UNEXPECTED') && isUnexpectedFailure(t.id));
  const errors = results.tests.filter((t) => t.outcome === 'ERROR');
  const flaky = results.tests.filter(isFlaky);
  const reasons: string[] = [];
  if (failed.length > 0) reasons.push(`${failed.length} product failure(s): ${failed.map((t) => `${t.id} ${t.outcome}`).join(', ')}`);
  if (errors.length > 0) reasons.push(`${errors.length} lab ERROR(s), not product verdicts: ${errors.map((t) => t.id).join(', ')}`);
  if (flaky.length > end.maxFlaky) reasons.push(`${flaky.length} FLAKY test(s) (a lab ERROR, then a pass), more than --max-flaky ${end.maxFlaky}: ${flaky.map((t) => t.id).join(', ')}`);
  if (!end.isPublished) reasons.push('the reports could not be written');
  if (end.isInterrupted) reasons.push('the run was interrupted');
  const isLabFailure = errors.length > 0 || flaky.length > end.maxFlaky || !end.isPublished || end.isInterrupted;
  const mismatches = expectations?.mismatches.filter((m) => m.actual !== 'ERROR' && !(m.actual !== null && failed.some((t) => t.id === m.id))) ?? [];
  if (mismatches.length > 0) reasons.push(`${mismatches.length} difference(s) from ${expectations!.file}:\n  ${mismatches.map((m) => m.text).join('\n  ')}`);
  const isJudged = expectations !== undefined || results.tests.some((t) => t.outcome !== 'SKIP');
  if (!isJudged) reasons.push(results.tests.length === 0 ? 'no test was selected: nothing was judged' : `every test was skipped (${results.tests.length}): nothing was judged`);
  const code = failed.length > 0 ? ExitCode.productFailure
    : isLabFailure ? ExitCode.labFailure
      : mismatches.length > 0 ? ExitCode.expectationMismatch
        : !isJudged ? ExitCode.notJudged
          : ExitCode.ok;
  return { code, reasons };
}
