import type { BugObservation, BugReproduction } from './BugReproduction.js';
import type { FixState } from './qemuFixState.js';

export interface BugVerdict {
  readonly outcome: 'REPRODUCED' | 'FIXED' | 'UNEXPECTED' | 'UNREACHABLE';
  readonly why: string;
}

/**
 * REPRODUCED: the bug's signature on a QEMU that should have it (or whose state is unknown).
 * FIXED: the fixed behaviour on a QEMU that should have the fix (or unknown).
 * UNEXPECTED: a regression (the bug on a fixed QEMU), the fix on a QEMU that should lack it
 * (a backport, or a wrong version gate), or neither signature.
 * UNREACHABLE: the QEMU predates the code path and showed what stops it first; not a verdict on the bug.
 */
export function decideVerdict(bug: Pick<BugReproduction, 'before' | 'after' | 'reachableFrom'>, fix: FixState, observation: BugObservation): BugVerdict {
  const expected = `expected for this QEMU: ${fix.state} (${fix.why})`;
  if (fix.state === 'unreachable' && bug.reachableFrom !== undefined) {
    const evidence = bug.reachableFrom.signature.evidence(observation);
    return evidence !== null
      ? { outcome: 'UNREACHABLE', why: `${bug.reachableFrom.signature.description}: ${evidence}; ${expected}` }
      : { outcome: 'UNEXPECTED', why: `expected "${bug.reachableFrom.signature.description}" on this QEMU and did not see it; ${describe(bug, observation)}; ${expected}` };
  }
  const before = bug.before.evidence(observation);
  const after = bug.after.evidence(observation);
  if (before !== null) {
    return fix.state === 'fixed'
      ? { outcome: 'UNEXPECTED', why: `regression: ${bug.before.description} (${before}) on a QEMU that carries the fix; ${expected}` }
      : { outcome: 'REPRODUCED', why: `${bug.before.description}: ${before}; ${expected}` };
  }
  if (after !== null) {
    return fix.state === 'unfixed'
      ? { outcome: 'UNEXPECTED', why: `${bug.after.description} (${after}) on a QEMU that should still have the bug (a backport?); ${expected}` }
      : { outcome: 'FIXED', why: `${bug.after.description}: ${after}; ${expected}` };
  }
  return { outcome: 'UNEXPECTED', why: `neither "${bug.before.description}" nor "${bug.after.description}"; ${describe(bug, observation)}; ${expected}` };
}

function describe(_bug: unknown, observation: BugObservation): string {
  if (observation.startError !== null) return `QEMU did not start: ${observation.startError.slice(-300)}`;
  const record = observation.record;
  if (record === null) return `no migration ran; blocked-reasons ${JSON.stringify(observation.blockedReasons)}`;
  return `migration ${record.outcome ?? 'none'}${record.reason !== null ? ` (${record.reason})` : ''}; blocked-reasons ${JSON.stringify(observation.blockedReasons)}`;
}
