import type { Diagnosis } from '../session/diagnosis/diagnoseFailure.js';
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
  readonly tests: TestResult[];
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
  /** Stable id: the suite path and title ("migration/ping-pong > virtio-net-pci, no vIOMMU > A→B→A ×3"). */
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
  attempts: number;
  /** How a failure of the guest before the behaviour under test was judged (design.md §7); absent when none was. */
  diagnosis?: readonly Diagnosis[];
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
