import type Mocha from 'mocha';
import { HarnessError } from '../errors.js';

type RunTest = (this: Mocha.Runner, fn: (error?: unknown) => void) => void;

/**
 * Makes mocha retry (`retries: n`) only the failures `isRetryable` accepts. Mocha decides to retry
 * inside Runner#runTest's callback, before any event a reporter can see, and retries every error,
 * timeouts included; so that callback is the one place where a FAIL can be kept from being retried.
 * Lowering the test's retries to its current attempt there makes mocha report it failed at once.
 */
export function retryOnlyLabErrors(runner: Mocha.Runner, isRetryable: (test: Mocha.Test, error: unknown) => boolean): void {
  const internal = runner as unknown as { runTest?: RunTest; test?: Mocha.Test };
  const runTest = internal.runTest;
  if (typeof runTest !== 'function') {
    throw new HarnessError('MOCHA_RETRY_HOOK', 'mocha\'s Runner has no runTest method: the installed mocha is not the major version (12) this harness knows; retries cannot be limited to lab errors. Install the version package-lock.json names ("npm ci").');
  }
  internal.runTest = function (this: Mocha.Runner, fn: (error?: unknown) => void): void {
    runTest.call(this, (error?: unknown) => {
      const test = internal.test;
      if (error !== undefined && error !== null && test !== undefined && !test.isPending() && !isRetryable(test, error)) {
        test.retries(attemptIndexOf(test));
      }
      fn(error);
    });
  };
}

/** 0 for a test's first attempt, k for its k-th retry (mocha's typings hide currentRetry()). */
export function attemptIndexOf(test: Mocha.Runnable): number {
  return (test as unknown as { currentRetry(): number }).currentRetry();
}

/** The test a retry was cloned from (itself for a first attempt). */
export function firstAttemptOf(test: Mocha.Runnable): Mocha.Runnable {
  return (test as unknown as { retriedTest?(): Mocha.Runnable | undefined }).retriedTest?.() ?? test;
}
