import type { LabConfig } from '../../harness/config/types.js';
import { describeExit, messageHead, readRunResults, type FaultVerdict } from './FaultVerdict.js';
import { HilChild } from './HilChild.js';
import { killSshSession } from './killSshSession.js';
import { CleanWatch, LabSnapshot } from './LabSnapshot.js';

/** Built to dist/test/faults/specs/; `hil run` maps a source path to its build. */
export const SLOW_MIGRATION_SPEC = 'test/faults/specs/slow-migration.spec.ts';
export const NO_VM_SPEC = 'test/faults/specs/no-vm.spec.ts';
/** Other engineers' runs on the same lab hold the lease meanwhile: queue behind them. */
export const LEASE_WAIT = ['--wait', '600'] as const;
/** A queued run: up to 600 s for the lease, then boot, migration and teardown under TCG. */
export const RUN_DEADLINE_MS = 900_000;

/** Once the runs that should clean up have exited, the hosts must be clean within this. */
export const CLEAN_GRACE_MS = 10_000;

/** `hil run` of the slow-migration spec, returned once its migration is in pre-copy. */
async function runInMigration(): Promise<HilChild> {
  const run = new HilChild(['run', SLOW_MIGRATION_SPEC, ...LEASE_WAIT]);
  await run.waitForOutput(/m1 \S+→\S+ active/, RUN_DEADLINE_MS);
  return run;
}

interface FaultedRun {
  readonly fault: string;
  readonly before: LabSnapshot;
  readonly run: HilChild;
  readonly faultAtMs: number;
  /** The run after the fault, started once the faulted one exited, whose opening must clean up. */
  readonly next?: HilChild;
  readonly evidence?: Readonly<Record<string, unknown>>;
}

/**
 * Waits for the faulted run (and the next run, if any) to end while watching the hosts from the
 * moment of the fault until they are clean, and reads the faulted run's verdict.
 */
async function verdictOf(lab: LabConfig, faulted: Omit<FaultedRun, 'next'>, startNext: boolean): Promise<FaultVerdict> {
  const runs: HilChild[] = [faulted.run];
  const ownRunIds = (): string[] => runs.map((r) => r.runId).filter((id): id is string => id !== null);
  const clean = new CleanWatch(lab, faulted.before, ownRunIds);
  const exit = await faulted.run.exit(RUN_DEADLINE_MS);
  // What the faulted run itself left, before any later run could clean it.
  const leftByRun = LabSnapshot.take(lab).residueSince(faulted.before, ownRunIds());
  let nextOutput = '';
  if (startNext) {
    const next = new HilChild(['run', NO_VM_SPEC, ...LEASE_WAIT]);
    runs.push(next);
    const nextExit = await next.exit(RUN_DEADLINE_MS);
    nextOutput = `\n--- next run (exit ${describeExit(nextExit)}) ---\n${next.output}`;
  }
  const { cleanAtMs, residue } = await clean.result(CLEAN_GRACE_MS);
  const results = readRunResults(lab.reportsDir, faulted.run.runId);
  const nextResults = runs[1] === undefined ? null : readRunResults(lab.reportsDir, runs[1].runId);
  // The next run's preflight says what it replayed: "undid N change(s) left by run(s) <id>".
  const nextRunJournalChecks = nextResults?.hosts.map((h) => `${h.host}: ${h.checks.find((c) => c.name === 'journal')?.detail ?? 'no journal check'}`) ?? null;
  const said = messageHead(results, faulted.run.output);
  return {
    fault: faulted.fault,
    exit: describeExit(exit),
    outcomes: results?.tests.map((t) => t.outcome) ?? [],
    messageHead: [said, nextRunJournalChecks === null ? '' : `next run's preflight: ${nextRunJournalChecks.join('; ')}`].filter((part) => part !== '').join(' — '),
    cleanupMs: cleanAtMs === null ? null : cleanAtMs - faulted.faultAtMs,
    residue,
    evidence: { ...faulted.evidence, runId: faulted.run.runId, results, leftByRun, nextRunJournalChecks },
    output: `${faulted.run.output}${nextOutput}`,
  };
}

/** The SSH connection of the run to the source host dies (its sshd session is SIGKILLed) in pre-copy. */
export async function injectSshDrop(lab: LabConfig): Promise<FaultVerdict> {
  const before = LabSnapshot.take(lab);
  const run = await runInMigration();
  const killed = killSshSession(lab, lab.hosts[lab.pairs[0]!.source]!, run.pid);
  return verdictOf(lab, { fault: 'SSH to the source dropped', before, run, faultAtMs: Date.now(), evidence: { killed } }, false);
}

/** The controller (`hil run`) is SIGKILLed in pre-copy; the next run must clean up first. */
export async function injectControllerKill(lab: LabConfig): Promise<FaultVerdict> {
  const before = LabSnapshot.take(lab);
  const run = await runInMigration();
  run.signal('SIGKILL');
  return verdictOf(lab, { fault: 'controller SIGKILLed', before, run, faultAtMs: Date.now() }, true);
}

/** Ctrl-C once in pre-copy: the run tears down and writes a partial report. */
export async function injectSigintOnce(lab: LabConfig): Promise<FaultVerdict> {
  const before = LabSnapshot.take(lab);
  const run = await runInMigration();
  run.signal('SIGINT');
  return verdictOf(lab, { fault: 'SIGINT once', before, run, faultAtMs: Date.now() }, false);
}

/** Ctrl-C twice in pre-copy: the run exits at once, leaving its journals to the next run. */
export async function injectSigintTwice(lab: LabConfig): Promise<FaultVerdict> {
  const before = LabSnapshot.take(lab);
  const run = await runInMigration();
  const firstAtMs = Date.now();
  run.signal('SIGINT');
  // Two signals sent together merge into one: the second goes once the first was seen.
  await run.waitForOutput(/Interrupted:/, 10_000);
  run.signal('SIGINT');
  return verdictOf(lab, { fault: 'SIGINT twice', before, run, faultAtMs: firstAtMs }, true);
}
