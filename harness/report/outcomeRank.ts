import type { Outcome } from './RunResults.js';

/**
 * How bad a product verdict is, for "worst outcome of a cell" and "did it get worse". SKIP and
 * ERROR are not product verdicts (design.md §7) and have no rank: a cell that only skipped or hit
 * lab errors says nothing about the product.
 */
const RANK: Partial<Record<Outcome, number>> = {
  PASS: 0, FIXED: 0, FLAKY: 1, REPRODUCED: 2, FAIL: 3, UNEXPECTED: 3,
};

export function verdictRank(outcome: Outcome): number | null {
  return RANK[outcome] ?? null;
}

/** Outcomes worst first, for sorting failures to the top of a report. */
const DISPLAY_ORDER: readonly Outcome[] = ['FAIL', 'UNEXPECTED', 'ERROR', 'REPRODUCED', 'FLAKY', 'PASS', 'FIXED', 'SKIP'];

export function displayOrder(outcome: Outcome): number {
  return DISPLAY_ORDER.indexOf(outcome);
}

/** The outcome a cell shows: its worst product verdict, else ERROR if any, else SKIP. */
export function worstOutcome(outcomes: readonly Outcome[]): Outcome | null {
  if (outcomes.length === 0) return null;
  return [...outcomes].sort((a, b) => displayOrder(a) - displayOrder(b))[0]!;
}

export function isPassing(outcome: Outcome): boolean {
  return outcome === 'PASS' || outcome === 'FLAKY' || outcome === 'FIXED' || outcome === 'REPRODUCED';
}

export function isFailing(outcome: Outcome): boolean {
  return outcome === 'FAIL' || outcome === 'UNEXPECTED' || outcome === 'ERROR';
}

/**
 * A test that needed a retry to reach its verdict: a lab ERROR, then a pass (outcome FLAKY) or a
 * bug verdict, which keeps its own outcome so the verdict stays readable.
 */
export function isFlaky(test: { readonly outcome: Outcome; readonly attempts: number; readonly earlierAttempts?: readonly unknown[] }): boolean {
  if (test.outcome === 'FLAKY') return true;
  const isRetried = (test.earlierAttempts?.length ?? 0) > 0 || test.attempts > 1;
  return isRetried && (test.outcome === 'PASS' || test.outcome === 'FIXED' || test.outcome === 'REPRODUCED');
}
