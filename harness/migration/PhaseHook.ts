import { errorMessage, HarnessError } from '../errors.js';
import type { MigrationRecord, MigrationSample } from './MigrationRecord.js';

/** When a hook fires, in terms of the migration's own progress. */
export type HookPhase =
  /** At the N-th dirty-bitmap sync (MIGRATION_PASS, or ram.dirty-sync-count reaching N). */
  | { readonly kind: 'pass'; readonly pass: number }
  /** Once the source has reported status "active" for this long. */
  | { readonly kind: 'activeFor'; readonly ms: number }
  /** With the guest stopped before switchover (pause-before-switchover); the migration waits for it. */
  | { readonly kind: 'preSwitchover' };

export interface PhaseHook {
  readonly name: string;
  readonly at: HookPhase;
  /** A guest or host action. Hooks other than preSwitchover run alongside the migration. */
  readonly action: (context: { readonly record: MigrationRecord }) => Promise<void>;
  /**
   * A fallback that is only needed if the migration gets that far (raising the limit of a guest
   * that might not converge by itself): its not firing is no failure. Its failure when it fires is.
   * Every other hook is what the test is about, so a hook that never fired fails the test.
   */
  readonly isConditional?: boolean;
}

/** What became of one planned hook by the end of the migration. */
export interface HookOutcome {
  readonly hook: PhaseHook;
  readonly hasFired: boolean;
  /** What its action threw (undefined when it did not throw). */
  readonly error?: unknown;
}

/**
 * A phase hook failed or never fired: the scenario the test is about did not run as written, so
 * the test cannot pass. It is the lab's failure (ERROR) when what the action threw was.
 */
export class PhaseHookError extends HarnessError {
  constructor(code: 'PHASE_HOOK_FAILED' | 'PHASE_HOOK_NOT_FIRED', message: string, readonly record: MigrationRecord, private readonly isLabFailure: boolean, cause?: unknown) {
    super(code, message, { ...(cause !== undefined ? { cause } : {}), data: { migration: record.id, outcome: record.outcome } });
  }

  override get isInfrastructure(): boolean {
    return this.isLabFailure;
  }
}

/**
 * Judges the hooks of a finished migration: the first that failed, else the required ones that
 * never fired, as an error naming the hook, its phase and how the migration ended; null when
 * every required hook fired and none failed.
 */
export function judgeHooks(outcomes: readonly HookOutcome[], record: MigrationRecord): PhaseHookError | null {
  const ended = `migration ${record.id} ${record.source.host}→${record.destination.host} ended ${record.outcome ?? 'without an outcome'}${record.reason !== null ? ` (${record.reason})` : ''}`;
  const failed = outcomes.find((o) => o.hasFired && o.error !== undefined);
  if (failed !== undefined) {
    const isLab = failed.error instanceof HarnessError && failed.error.isInfrastructure;
    return new PhaseHookError('PHASE_HOOK_FAILED', `Phase hook "${failed.hook.name}" (${describePhase(failed.hook.at)}) failed: ${errorMessage(failed.error)}; ${ended}. The scenario did not run as written: see the hook's error and the migration record.`, record, isLab, failed.error);
  }
  const missed = outcomes.filter((o) => !o.hasFired && o.hook.isConditional !== true);
  if (missed.length > 0) {
    const names = missed.map((o) => `"${o.hook.name}" (${describePhase(o.hook.at)})`).join(', ');
    const last = record.samples[record.samples.length - 1];
    const seen = last === undefined ? 'no query-migrate sample' : `last query-migrate: status ${last.status}, dirty-sync-count ${last.dirtySyncCount ?? '?'}`;
    return new PhaseHookError('PHASE_HOOK_NOT_FIRED', `Phase hook ${names} never fired: ${ended} before its phase was reached (${seen}). Slow the migration (max-bandwidth) or move the hook earlier so the scenario runs.`, record, false);
  }
  return null;
}

export function describePhase(phase: HookPhase): string {
  switch (phase.kind) {
    case 'pass': return `at pass ${phase.pass}`;
    case 'activeFor': return `once active for ${phase.ms} ms`;
    case 'preSwitchover': return 'at pre-switchover';
  }
}

/** Whether a not-yet-fired hook is due, given the latest sample and what the migration saw. */
export function isHookDue(phase: HookPhase, sample: MigrationSample, progress: { readonly passesSeen: number; readonly activeSinceMs: number | null }): boolean {
  switch (phase.kind) {
    case 'pass':
      return Math.max(progress.passesSeen, sample.dirtySyncCount ?? 0) >= phase.pass;
    case 'activeFor':
      return progress.activeSinceMs !== null && sample.atMs - progress.activeSinceMs >= phase.ms;
    case 'preSwitchover':
      return sample.status === 'pre-switchover';
  }
}
