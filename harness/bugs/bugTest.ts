import type { BugObservation, BugReproduction } from './BugReproduction.js';
import { requireCapabilities } from '../mocha/mochaContext.js';
import { bugTitleTag } from './bugCatalogue.js';
import { decideVerdict } from './decideVerdict.js';
import { InconclusiveError } from './InconclusiveError.js';
import { qemuFixState, type QemuUnderTest } from './qemuFixState.js';

/** The references of a bug as the report lists them. */
export function referenceLines(bug: BugReproduction): string[] {
  return [
    ...bug.references.lore.map((l) => `lore ${l}`),
    ...(bug.references.fixes !== undefined ? [`Fixes: ${bug.references.fixes}`] : []),
    bug.fixedIn.kind === 'release'
      ? `fixed in QEMU ${bug.fixedIn.version} by ${bug.references.fixCommits.join(', ')} (${bug.fixedIn.note})`
      : `expected behaviour since QEMU ${bug.fixedIn.sinceVersion}: ${bug.fixedIn.note}`,
  ];
}

/**
 * A mocha test for a bug: skips without its capabilities, runs `observe`, and sets the test's
 * verdict (REPRODUCED / FIXED / UNEXPECTED) from the QEMU under test. A bug whose path this QEMU
 * cannot reach is skipped with the evidence of what stopped it; a run that lacks the evidence a
 * verdict needs fails as INCONCLUSIVE, a lab ERROR that lists what was missing.
 */
export function bugTest(bug: BugReproduction, observe: (context: Mocha.Context) => Promise<BugObservation>): Mocha.Test {
  return it(`${bugTitleTag(bug.id)} ${bug.title}`, async function () {
    requireCapabilities(this, bug.needs);
    this.scope.references.push(...referenceLines(bug));
    const qemu = this.lab.hostPreflight(this.lab.pair.source).facts?.qemu;
    // Preflight may know what the build is made of; read it as an optional field of the facts.
    const known: Partial<QemuUnderTest> = qemu ?? {};
    const fix = qemuFixState({ version: qemu?.version ?? null, versionLine: qemu?.versionLine ?? null, identity: known.identity ?? null }, bug);
    Object.assign(this.scope.labels, { bug: bug.id, qemu: qemu?.version ?? 'unknown', expected: fix.state });
    const observation = await observe(this);
    const verdict = decideVerdict(bug, fix, observation);
    this.scope.writeArtifact('bug-verdict.json', 'other', `verdict of bug ${bug.id}`, JSON.stringify({
      bug: bug.id, fix, verdict, blockedReasons: observation.blockedReasons, startError: observation.startError, outcome: observation.record?.outcome ?? null, reason: observation.record?.reason ?? null,
      sourceTraceFile: observation.sourceTraceFile, guestLoop: observation.guestLoop ?? null, destination: observation.destination ?? null,
    }, null, 2));
    if (verdict.outcome === 'INCONCLUSIVE') throw new InconclusiveError(bug.id, verdict.missing, `expected for this QEMU: ${fix.state} (${fix.why})`);
    if (verdict.outcome === 'UNREACHABLE') {
      this.test!.hilSkipReason = `not reachable on this QEMU: ${verdict.why}`;
      this.skip();
    }
    this.scope.verdict = { outcome: verdict.outcome, why: verdict.why };
  });
}
