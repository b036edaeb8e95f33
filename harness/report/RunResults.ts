import type { Expectation } from '../config/loadExpectations.js';
import type { Diagnosis } from './Diagnosis.js';
import type { HostPreflight } from '../host/preflightHost.js';
import type { Measurements } from '../migration/MigrationRecord.js';

/**
 * results.json: everything a run produced, the one input of every report (JUnit, HTML, history).
 * `hil report <runId>` regenerates all outputs from it. Its published shape: schema/results.schema.json.
 */
export const RESULTS_FORMAT_VERSION = 1;

/** design.md §7, plus the bug-reproduction verdicts. */
export type Outcome = 'PASS' | 'FAIL' | 'ERROR' | 'SKIP' | 'FLAKY' | 'REPRODUCED' | 'FIXED' | 'UNEXPECTED';

export interface RunResults {
  readonly formatVersion: typeof RESULTS_FORMAT_VERSION;
  readonly runId: string;
  readonly lab: { readonly name: string; readonly kind: string; readonly file: string };
  readonly pair: { readonly name: string; readonly source: string; readonly destination: string } | null;
  readonly harnessVersion: string;
  readonly commandLine: readonly string[];
  readonly startedAt: string;
  endedAt: string | null;
  /** False while running, or when the run was interrupted (SIGINT) before it finished. */
  isComplete: boolean;
  /** Preflight of each host at the start of the run (facts, capabilities, checks). */
  readonly hosts: readonly HostPreflight[];
  /** `hil run --shard index/count` (index 1-based), or null when the run took every test. */
  readonly shard: ShardSpec | null;
  /** For a run made by `hil report --merge`: the shard runs it combines. */
  readonly mergedFrom?: readonly MergedRun[];
  /** Unit of each measurement name (computeMeasurements.ts MEASUREMENT_UNITS); absent in early files. */
  readonly measurementUnits?: Readonly<Record<string, string>>;
  /** The revision of the harness and suite sources the run's compiled code was built from; absent in early files. */
  readonly sources?: SourceRevision;
  /** `hil run --expect FILE`: the run held against its expectation file; absent without one. */
  expectations?: ExpectationReport;
  readonly tests: TestResult[];
}

export interface SourceRevision {
  /** `git rev-parse HEAD` of the project, or null outside a git checkout. */
  readonly commit: string | null;
  /** True when harness/ or suites/ differ from that commit (uncommitted or untracked files); null when unknown. */
  readonly isDirty: boolean | null;
  /** The differing paths (at most 50), from `git status --porcelain`. */
  readonly dirtyPaths: readonly string[];
  /** Why commit or isDirty is null (no git, not a checkout). */
  readonly note: string | null;
}

export interface ExpectationReport {
  readonly file: string;
  /** Tests of the run that the file names and whose outcome matched. */
  readonly matched: number;
  /** Every difference: a test whose outcome differs, a test the file names that did not run, a test the file does not name. */
  readonly mismatches: readonly ExpectationMismatch[];
  /** Ids the file names whose spec files this run did not load (another selection of suites): not judged. */
  readonly notInRun: readonly string[];
}

export interface ExpectationMismatch {
  readonly id: string;
  readonly kind: 'outcome' | 'missing' | 'unexpected-test' | 'known-failure-passed';
  readonly expected: Expectation | null;
  readonly actual: Outcome | null;
  readonly text: string;
}

export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

export interface MergedRun {
  readonly runId: string;
  readonly shard: ShardSpec | null;
  readonly pair: RunResults['pair'];
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly isComplete: boolean;
}

export interface TestResult {
  /** Stable id: the spec file and the key the test declared ("migration/ping-pong:virtio-net-pci/no-viommu"); a failed hook's adds "#before-each" etc. */
  readonly id: string;
  readonly title: string;
  readonly suite: string;
  readonly file: string;
  outcome: Outcome;
  durationMs: number;
  /** For SKIP: the missing capability and why. */
  skipReason: string | null;
  error: { readonly message: string; readonly causeChain: readonly string[]; readonly code: string | null } | null;
  /** Upstream references of bug-reproduction tests (lore Message-ID/URL, Fixes: commit, fixed-in). */
  references: readonly string[];
  /** Labels shared by the test's migrations: backend, nic, viommu, guestRamMiB. */
  labels: Readonly<Record<string, string>>;
  migrations: MigrationResult[];
  artifacts: Artifact[];
  /** How many times the test ran: 1, or more when a lab ERROR was retried (`hil run --retries`). */
  attempts: number;
  /** How a failure of the guest before the behaviour under test was judged (design.md §7); absent when none was. */
  diagnosis?: readonly Diagnosis[];
  /** Every attempt before the last, oldest first; the fields above are the last attempt's. */
  earlierAttempts?: AttemptResult[];
  /** With `hil run --expect`: what the file expected of this test and whether it held. */
  expectation?: { readonly expected: Expectation | null; readonly isMet: boolean; readonly text: string };
}

/** One attempt of a retried test, kept whole: a retry must not hide what the earlier attempt saw. */
export interface AttemptResult {
  /** 1-based. */
  readonly attempt: number;
  readonly outcome: Outcome;
  readonly durationMs: number;
  readonly error: TestResult['error'];
  readonly migrations: MigrationResult[];
  readonly artifacts: Artifact[];
  readonly diagnosis?: readonly Diagnosis[];
}

export interface MigrationResult {
  readonly id: string;
  readonly direction: string;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly measurements: Measurements;
  /** Name of the artifact (under artifacts/) holding the whole MigrationRecord. */
  readonly recordArtifact: string;
}

export interface Artifact {
  /** Path relative to the run folder. */
  readonly path: string;
  readonly kind: 'qemu-log' | 'console' | 'trace' | 'dmesg' | 'migration-record' | 'other';
  readonly description: string;
}
