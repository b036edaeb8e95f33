import type Mocha from 'mocha';
import { HarnessError, InfrastructureError } from '../errors.js';
import type { Outcome } from '../report/RunResults.js';

export interface FailureJudgeOptions {
  /** After Ctrl-C a test that fails was cut short by the user: ERROR, not a product FAIL. */
  readonly isInterrupted?: () => boolean;
  /** How the lab failed since then (an SSH connection to a host dropped), or null: a test failing after that is ERROR. */
  readonly labFailureSince?: (sinceMs: number) => string | null;
}

export interface Judgement {
  readonly outcome: Extract<Outcome, 'ERROR' | 'FAIL'>;
  /** The error as the results show it: wrapped when the lab failed under the test. */
  readonly seen: unknown;
}

/** Classifies a failure by its error alone (design.md §7): a lab failure is ERROR, never a product FAIL. */
export function failureOutcome(error: unknown): Extract<Outcome, 'ERROR' | 'FAIL'> {
  return error instanceof HarnessError && error.isInfrastructure ? 'ERROR' : 'FAIL';
}

/**
 * The one place a failed attempt is judged lab ERROR or product FAIL. The reporter records with
 * it and the retry policy retries with it, so a failure that is reported FAIL is never retried.
 */
export class FailureJudge {
  private testBeganAtMs = Date.now();

  constructor(private readonly options: FailureJudgeOptions = {}) {}

  /** Hooks fail as "tests" too; the lab failures that count for them are those since the test began. */
  observe(runner: Mocha.Runner, testBeginEvent: string): void {
    runner.on(testBeginEvent, () => { this.testBeganAtMs = Date.now(); });
  }

  get isInterrupted(): boolean {
    return this.options.isInterrupted?.() === true;
  }

  judge(error: unknown): Judgement {
    const labFailure = this.options.labFailureSince?.(this.testBeganAtMs) ?? null;
    // Whatever the test saw after the lab failed under it (a closed QMP client, a dead console) says nothing about the product.
    const seen = labFailure === null ? error : new InfrastructureError('LAB_FAILED_DURING_TEST', `${labFailure}; the failure is the lab's, not a product verdict`, { cause: error });
    return { outcome: this.isInterrupted ? 'ERROR' : failureOutcome(seen), seen };
  }
}
