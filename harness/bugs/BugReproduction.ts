import type { Capability } from '../host/capabilities.js';
import type { MigrationRecord } from '../migration/MigrationRecord.js';
import type { TraceLine } from '../qemu/parseTraceLog.js';

/**
 * An upstream bug as data (design.md §1, "a suite per bug, tied to the upstream link"): where it
 * was reported, what it is blamed on, what fixed it, and what a run shows before and after the
 * fix. The verdict (REPRODUCED / FIXED / UNEXPECTED) comes from comparing what the QEMU under test
 * should show (its version against `fixedIn`) with what it showed.
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
}

/** A recognisable outcome: evidence text when the observation shows it, else null. */
export interface BugSignature {
  readonly description: string;
  readonly evidence: (observation: BugObservation) => string | null;
}
