import type { Capability } from '../host/capabilities.js';
import type { MigrationRecord } from '../migration/MigrationRecord.js';
import type { TraceLine } from '../qemu/parseTraceLog.js';
import type { TraceFileFacts } from '../qemu/TraceFileRead.js';

/**
 * An upstream bug as data (design.md §1, "a suite per bug, tied to the upstream link"): where it
 * was reported, what it is blamed on, what fixed it, and what a run shows before and after the
 * fix. The verdict (REPRODUCED / FIXED / UNEXPECTED) comes from comparing what the QEMU under test
 * should show (its build identity against `references.fixCommits` and `reachableWith`, else its
 * version against `fixedIn`) with what it showed; a run without the evidence a verdict needs is
 * INCONCLUSIVE.
 */
export interface BugReproduction {
  /** Stable id for `hil run --bug <id>`: lower-case words and dashes. */
  readonly id: string;
  readonly title: string;
  readonly references: UpstreamReferences;
  /** Host capabilities without which the test is skipped, naming them. */
  readonly needs: readonly Capability[];
  /** The spec file that runs it, relative to the checkout (suites/bugs/...). */
  readonly suite: string;
  /** QEMU releases before this cannot reach the code path at all (e.g. a blocker stops the scenario first). */
  readonly reachableFrom?: { readonly version: string; readonly why: string; readonly signature: BugSignature };
  readonly fixedIn: FixedIn;
  /** What a run on a QEMU with the bug shows. */
  readonly before: BugSignature;
  /** What a run on a QEMU with the fix shows. */
  readonly after: BugSignature;
}

export interface UpstreamReferences {
  /** lore Message-IDs (<...>) or URLs. */
  readonly lore: readonly string[];
  /** The commit the bug is blamed on (a Fixes: tag), when there is one. */
  readonly fixes?: string;
  /** Commits that carry the fix (abbreviated hashes). */
  readonly fixCommits: readonly string[];
  /**
   * Commits without which the bug's path cannot be reached (e.g. what lifts a blocker that stops
   * the scenario first): a build known to lack the fix but carry these is expected to show the bug.
   */
  readonly reachableWith?: readonly string[];
}

/** The first QEMU release with the fix; `never` for a behaviour mainline always had (a rejected patch's thread). */
export type FixedIn =
  | { readonly kind: 'release'; readonly version: string; readonly note: string }
  | { readonly kind: 'always'; readonly sinceVersion: string; readonly note: string };

/** What one run of a bug's scenario gathered: enough to tell either signature apart. */
export interface BugObservation {
  /** QEMU refused to start (realize error), with its output; null when it started. */
  readonly startError: string | null;
  /** query-migrate blocked-reasons before `migrate`. */
  readonly blockedReasons: readonly string[];
  readonly record: MigrationRecord | null;
  /** The source QEMU's stderr/log. */
  readonly sourceLog: string;
  readonly sourceTrace: readonly TraceLine[];
  /** Whether the trace file was there, empty or had lines, and what of it could not be read. */
  readonly sourceTraceFile: TraceFileFacts;
  /** The guest's domain-switch loop, for scenarios that run one: null when it never reported. */
  readonly guestLoop?: GuestLoopEvidence | null;
  /** The guest on the destination after a completed migration: null when nobody looked. */
  readonly destination?: DestinationCheck | null;
}

/** What the guest's domain-switch loop did during the migration. */
export interface GuestLoopEvidence {
  /** The function as the guest names it (0000:00:03.0). */
  readonly bdf: string;
  readonly cycles: number;
  readonly succeededCycles: number;
  readonly failedCycles: number;
  readonly errors: readonly string[];
  /** The source's query-migrate status just before and just after the loop. */
  readonly statusBefore: string;
  readonly statusAfter: string;
  /** The guest's own DMA mapping each cycle made and unmapped (vfio-loop's IOVA window), when it said. */
  readonly dmaWindow: { readonly iova: number; readonly sizeBytes: number } | null;
}

/** The destination guest, looked at after the migration completed. */
export interface DestinationCheck {
  /** Its console answered a command. */
  readonly hasGuestAnswered: boolean;
  /** Same kernel boot id as on the source before the migration (not rebooted); null when not read. */
  readonly isSameBoot: boolean | null;
  /** One claim of the device through VFIO worked there; null when not tried. */
  readonly isDeviceUsable: boolean | null;
  readonly detail: string;
}

/**
 * How an observation stands against a signature. `unproven`: nothing contradicts it, but the
 * evidence that the code path ran is missing (each entry says what) — an INCONCLUSIVE run, never
 * a verdict.
 */
export type SignatureMatch =
  | { readonly kind: 'shown'; readonly evidence: string }
  | { readonly kind: 'not-shown'; readonly why: string }
  | { readonly kind: 'unproven'; readonly missing: readonly string[] };

/** A recognisable outcome, with the positive evidence it needs. */
export interface BugSignature {
  readonly description: string;
  readonly match: (observation: BugObservation) => SignatureMatch;
}

export const shown = (evidence: string): SignatureMatch => ({ kind: 'shown', evidence });
export const notShown = (why: string): SignatureMatch => ({ kind: 'not-shown', why });
export const unproven = (missing: readonly string[]): SignatureMatch => ({ kind: 'unproven', missing });
