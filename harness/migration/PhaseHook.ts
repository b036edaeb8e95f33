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
