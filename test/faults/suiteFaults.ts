import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabConfig } from '../../harness/config/types.js';
import type { MigrationRecord } from '../../harness/migration/MigrationRecord.js';
import type { RunResults } from '../../harness/report/RunResults.js';
import { describeExit, readRunResults, type FaultVerdict } from './FaultVerdict.js';
import { HilChild } from './HilChild.js';
import { CLEAN_GRACE_MS, LEASE_WAIT, RUN_DEADLINE_MS } from './inRunFaults.js';
import { CleanWatch, LabSnapshot } from './LabSnapshot.js';

export const DESTINATION_KILLED_SPEC = 'suites/failure/destination-killed.spec.ts';
export const LINK_CUT_SPEC = 'suites/failure/link-cut.spec.ts';
export const LINK_CUT_DEADLINE_SPEC = 'test/faults/specs/link-cut-deadline.spec.ts';

/** When the first phase hook of the run's first migration fired: the fault the suite injects itself. */
function firstHookFiredAtMs(lab: LabConfig, runId: string, results: RunResults | null): number | null {
  const artifact = results?.tests.flatMap((t) => t.migrations)[0]?.recordArtifact;
  if (artifact === undefined) return null;
  const record = JSON.parse(readFileSync(join(lab.reportsDir, runId, artifact), 'utf8')) as MigrationRecord;
  return record.hooks[0]?.firedAtMs ?? null;
}

/**
 * Runs suites that inject their own fault from a phase hook (`hil run <specs> --wait 600`) and
 * judges the run from outside: its verdict, and whether the hosts were clean once it ended,
 * timed from the moment the hook fired (read back from the migration record).
 */
export async function injectFromSuite(lab: LabConfig, fault: string, specs: readonly string[], grep?: string): Promise<FaultVerdict> {
  const before = LabSnapshot.take(lab);
  const run = new HilChild(['run', ...specs, ...(grep === undefined ? [] : ['--grep', grep]), ...LEASE_WAIT]);
  // From here the run has VMs up, so the first clean look is the clean-up after the fault.
  await run.waitForOutput(/m1 \S+→\S+ active/, RUN_DEADLINE_MS);
  const clean = new CleanWatch(lab, before, () => (run.runId === null ? [] : [run.runId]));
  const exit = await run.exit(RUN_DEADLINE_MS);
  const { cleanAtMs, residue } = await clean.result(CLEAN_GRACE_MS);
  const results = readRunResults(lab.reportsDir, run.runId);
  const firedAtMs = run.runId === null ? null : firstHookFiredAtMs(lab, run.runId, results);
  const migrations = results?.tests.flatMap((t) => t.migrations) ?? [];
  const failed = results?.tests.find((t) => t.error !== null);
  return {
    fault, exit: describeExit(exit),
    outcomes: results?.tests.map((t) => t.outcome) ?? [],
    // The product's verdict is in the migration: "failed" with QEMU's reason, or the harness's deadline.
    messageHead: failed?.error?.message.split('\n')[0] ?? migrations.map((m) => `${m.id} ${m.outcome ?? 'not started'}${m.reason === null ? '' : `: ${m.reason}`}`).join('; '),
    cleanupMs: cleanAtMs === null || firedAtMs === null ? null : Math.round(cleanAtMs - firedAtMs),
    residue,
    evidence: { runId: run.runId, results, migrations },
    output: run.output,
  };
}
