import type { BugObservation, BugReproduction, SignatureMatch } from './BugReproduction.js';
import type { FixState } from './qemuFixState.js';

export interface BugVerdict {
  readonly outcome: 'REPRODUCED' | 'FIXED' | 'UNEXPECTED' | 'UNREACHABLE' | 'INCONCLUSIVE';
  readonly why: string;
  /** For INCONCLUSIVE: each piece of evidence that was missing. */
  readonly missing: readonly string[];
}

/**
 * REPRODUCED: the bug's signature, with its evidence, on a QEMU that should have it (or whose state is unknown).
 * FIXED: the fixed behaviour, with the evidence that the path ran, on a QEMU that should have the fix (or unknown).
 * UNEXPECTED: a regression (the bug on a fixed QEMU), the fix on a QEMU that should lack it
 * (a backport, or a wrong gate), or an observation that contradicts both signatures.
 * UNREACHABLE: the QEMU predates the code path and showed what stops it first; not a verdict on the bug.
 * INCONCLUSIVE: no signature shown and at least one lacking evidence (an ERROR, design.md §7):
 * the absence of the bug's symptom is never taken as the fix.
 */
export function decideVerdict(bug: Pick<BugReproduction, 'before' | 'after' | 'reachableFrom'>, fix: FixState, observation: BugObservation): BugVerdict {
  const expected = `expected for this QEMU: ${fix.state} (${fix.why})`;
  if (fix.state === 'unreachable' && bug.reachableFrom !== undefined) {
    const blocker = bug.reachableFrom.signature.match(observation);
    if (blocker.kind === 'shown') return verdict('UNREACHABLE', `${bug.reachableFrom.signature.description}: ${blocker.evidence}; ${expected}`);
    if (blocker.kind === 'unproven') return inconclusive(blocker.missing, expected);
    return verdict('UNEXPECTED', `expected "${bug.reachableFrom.signature.description}" on this QEMU and did not see it (${blocker.why}); ${describe(observation)}; ${expected}`);
  }
  const before = bug.before.match(observation);
  const after = bug.after.match(observation);
  if (before.kind === 'shown') {
    return fix.state === 'fixed'
      ? verdict('UNEXPECTED', `regression: ${bug.before.description} (${before.evidence}) on a QEMU that carries the fix; ${expected}`)
      : verdict('REPRODUCED', `${bug.before.description}: ${before.evidence}; ${expected}`);
  }
  if (after.kind === 'shown') {
    return fix.state === 'unfixed'
      ? verdict('UNEXPECTED', `${bug.after.description} (${after.evidence}) on a QEMU that should still have the bug (a backport?); ${expected}`)
      : verdict('FIXED', `${bug.after.description}: ${after.evidence}; ${expected}`);
  }
  const missing = [...missingOf(before), ...missingOf(after)];
  if (missing.length > 0) return inconclusive([...new Set(missing)], expected);
  return verdict('UNEXPECTED', `neither "${bug.before.description}" (${whyNot(before)}) nor "${bug.after.description}" (${whyNot(after)}); ${describe(observation)}; ${expected}`);
}

function verdict(outcome: Exclude<BugVerdict['outcome'], 'INCONCLUSIVE'>, why: string): BugVerdict {
  return { outcome, why, missing: [] };
}

function inconclusive(missing: readonly string[], expected: string): BugVerdict {
  return { outcome: 'INCONCLUSIVE', why: `missing evidence: ${missing.join('; ')}; ${expected}`, missing };
}

function missingOf(match: SignatureMatch): readonly string[] {
  return match.kind === 'unproven' ? match.missing : [];
}

function whyNot(match: SignatureMatch): string {
  return match.kind === 'not-shown' ? match.why : match.kind;
}

function describe(observation: BugObservation): string {
  if (observation.startError !== null) return `QEMU did not start: ${observation.startError.slice(-300)}`;
  const record = observation.record;
  if (record === null) return `no migration ran; blocked-reasons ${JSON.stringify(observation.blockedReasons)}`;
  return `migration ${record.outcome ?? 'none'}${record.reason !== null ? ` (${record.reason})` : ''}; blocked-reasons ${JSON.stringify(observation.blockedReasons)}`;
}
