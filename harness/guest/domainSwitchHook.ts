import { HarnessError } from '../errors.js';
import type { HookPhase, PhaseHook } from '../migration/PhaseHook.js';
import type { DomainSwitchLoop, DomainSwitchOutcome } from './DomainSwitchOutcome.js';

export interface DomainSwitchHookResult {
  readonly outcome: DomainSwitchOutcome;
  /** The source's query-migrate status just before and just after the loop. */
  readonly statusBefore: string;
  readonly statusAfter: string;
}

export interface DomainSwitchDuringMigration {
  readonly hook: PhaseHook;
  /** What the loop did; throws when the hook never ran or the loop failed to run. */
  result(): DomainSwitchHookResult;
  /** True when the whole loop ran while the source said "active" (the patch-7 condition). */
  readonly wasInsideActivePhase: boolean;
}

/**
 * A phase hook that runs a guest domain-switch loop while the migration is active (brief §7 C:
 * "while status == active, cycle the guest app"). The loop runs on the source guest, which
 * only executes until switchover, so the migration must stay in pre-copy longer than the loop:
 * the suite lowers max-bandwidth, and the statuses around the loop say whether it did.
 */
export function domainSwitchHook(options: { readonly name: string; readonly at: HookPhase; readonly loop: DomainSwitchLoop; readonly migrationStatus: () => Promise<string> }): DomainSwitchDuringMigration {
  let result: DomainSwitchHookResult | null = null;
  let failure: unknown = null;
  const hook: PhaseHook = {
    name: options.name,
    at: options.at,
    action: async () => {
      try {
        const statusBefore = await options.migrationStatus();
        const outcome = await options.loop();
        const statusAfter = await options.migrationStatus();
        result = { outcome, statusBefore, statusAfter };
      } catch (error) {
        failure = error;
        throw error;
      }
    },
  };
  return {
    hook,
    result(): DomainSwitchHookResult {
      if (result !== null) return result;
      throw new HarnessError('DOMAIN_SWITCH_NOT_RUN', failure === null ? `Phase hook "${options.name}" never fired: the migration left pre-copy before it was due` : `Phase hook "${options.name}" failed`, { cause: failure });
    },
    get wasInsideActivePhase(): boolean {
      return result !== null && result.statusBefore === 'active' && result.statusAfter === 'active';
    },
  };
}
