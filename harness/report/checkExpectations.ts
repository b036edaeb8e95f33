import type { Expectation, ExpectationFile } from '../config/loadExpectations.js';
import type { ExpectationMismatch, ExpectationReport, Outcome, TestResult } from './RunResults.js';

/** What the run was asked to run, so a test the file names is told apart from one this run did not select. */
export interface RunSelection {
  /** Spec files loaded, as they appear in ids ("migration/ping-pong"). */
  readonly specFiles: ReadonlySet<string>;
  /** Ids of every test those files declare. */
  readonly declaredIds: ReadonlySet<string>;
  /** Ids of the tests left after --grep, --bug and --shard: those that should have a result. */
  readonly selectedIds: ReadonlySet<string>;
}

/**
 * The skip reason bug tests give when the QEMU under test cannot reach the bug's code path
 * (harness/bugs/bugTest.ts): an expected NOT-REACHABLE is such a skip.
 */
const NOT_REACHABLE = /^not reachable on this QEMU/;

/**
 * Holds a run's results against an expectation file: sets each test's `expectation` and returns
 * every difference. A test the file names that was selected and has no result is missing; one
 * whose spec file was loaded but that no longer exists (renamed, deleted) is missing too; a test
 * with a result the file does not name is unexpected; ids of spec files this run did not load
 * are not judged.
 */
export function checkExpectations(file: ExpectationFile, tests: TestResult[], selection: RunSelection): ExpectationReport {
  const mismatches: ExpectationMismatch[] = [];
  let matched = 0;
  const seen = new Set<string>();
  for (const test of tests) {
    seen.add(test.id);
    const expected = file.tests.get(test.id) ?? null;
    if (expected === null) {
      const text = `${test.id} ran (${test.outcome}) and ${file.file} does not name it; add it with the outcome this lab and QEMU should give`;
      test.expectation = { expected: null, isMet: false, text };
      mismatches.push({ id: test.id, kind: 'unexpected-test', expected: null, actual: test.outcome, text });
      continue;
    }
    const verdict = judge(expected, test);
    test.expectation = { expected, isMet: verdict.isMet, text: verdict.text };
    if (verdict.isMet) matched++;
    else mismatches.push({ id: test.id, kind: verdict.kind, expected, actual: test.outcome, text: `${test.id}: ${verdict.text}` });
  }
  const notInRun: string[] = [];
  for (const [id, expected] of file.tests) {
    if (seen.has(id)) continue;
    const specFile = id.slice(0, id.indexOf(':'));
    if (!selection.specFiles.has(specFile)) {
      notInRun.push(id);
    } else if (!selection.declaredIds.has(id)) {
      mismatches.push({ id, kind: 'missing', expected, actual: null, text: `${id} (${expected.place}, expected ${describeExpectation(expected)}) is not declared by ${specFile}: renamed or removed? Update ${file.file}` });
    } else if (selection.selectedIds.has(id)) {
      mismatches.push({ id, kind: 'missing', expected, actual: null, text: `${id} (${expected.place}, expected ${describeExpectation(expected)}) was selected and has no result: the run ended before it, or a hook failed before it ran` });
    } else {
      notInRun.push(id);
    }
  }
  return { file: file.file, matched, mismatches, notInRun };
}

function judge(expected: Expectation, test: TestResult): { isMet: boolean; kind: ExpectationMismatch['kind']; text: string } {
  const want = `expected ${describeExpectation(expected)} (${expected.place})`;
  const got = `got ${test.outcome}${test.skipReason !== null ? ` (${test.skipReason})` : ''}`;
  const mismatch = (kind: ExpectationMismatch['kind'], why = ''): { isMet: boolean; kind: ExpectationMismatch['kind']; text: string } => ({ isMet: false, kind, text: `${want}, ${got}${why}` });
  const met = { isMet: true, kind: 'outcome' as const, text: `${want}: met` };
  const matches = (text: string | null): boolean => expected.reason === null || (text !== null && new RegExp(expected.reason).test(text));
  switch (expected.outcome) {
    case 'PASS':
      // FLAKY's product verdict is a pass; --max-flaky decides whether the retry is acceptable.
      return test.outcome === 'PASS' || test.outcome === 'FLAKY' ? met : mismatch('outcome');
    case 'REPRODUCED':
    case 'FIXED':
      return test.outcome === expected.outcome ? met : mismatch('outcome');
    case 'SKIP':
      if (test.outcome !== 'SKIP') return mismatch('outcome');
      return matches(test.skipReason) ? met : mismatch('outcome', `; the skip reason does not match /${expected.reason}/`);
    case 'NOT-REACHABLE':
      if (test.outcome !== 'SKIP' || !NOT_REACHABLE.test(test.skipReason ?? '')) return mismatch('outcome', '; a NOT-REACHABLE is a bug test skipped as "not reachable on this QEMU"');
      return matches(test.skipReason) ? met : mismatch('outcome', `; the skip reason does not match /${expected.reason}/`);
    case 'FAIL': {
      if (isVerdictPass(test.outcome)) return mismatch('known-failure-passed', `; a known failure (${expected.link}) no longer fails: confirm the fix and update the expectation`);
      if (test.outcome !== 'FAIL' && test.outcome !== 'UNEXPECTED') return mismatch('outcome');
      const errorText = test.error === null ? null : [test.error.message, ...test.error.causeChain].join('\n');
      return matches(errorText) ? met : mismatch('outcome', `; the failure is not the known one: its error does not match /${expected.reason}/`);
    }
  }
}

function isVerdictPass(outcome: Outcome): boolean {
  return outcome === 'PASS' || outcome === 'FLAKY' || outcome === 'FIXED' || outcome === 'REPRODUCED';
}

export function describeExpectation(expected: Expectation): string {
  const reason = expected.reason === null ? '' : ` /${expected.reason}/`;
  return expected.outcome === 'FAIL' ? `known FAIL${reason} (${expected.link})` : `${expected.outcome}${reason}`;
}
