import { setTimeout as delay } from 'node:timers/promises';
import { HarnessError } from './errors.js';

/** One look at what is awaited: done (with a value), or not yet (with what was seen). */
export type Probe<T> = { readonly isDone: true; readonly value: T } | { readonly isDone: false; readonly seen: string };

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** The module's own timeout error; by default a HarnessError WAIT_TIMEOUT. */
  readonly onTimeout?: (what: string, timeoutMs: number, lastSeen: string) => Error;
}

/**
 * Polls `probe` until done or the deadline. The timeout error names what was awaited and the last
 * thing seen, so a stuck wait says why. A probe may throw to end the wait early ("the process died").
 */
export async function waitFor<T>(what: string, probe: () => Promise<Probe<T>> | Probe<T>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastSeen = 'nothing yet';
  for (;;) {
    const result = await probe();
    if (result.isDone) return result.value;
    lastSeen = result.seen;
    if (Date.now() >= deadline) {
      throw options.onTimeout?.(what, options.timeoutMs, lastSeen)
        ?? new HarnessError('WAIT_TIMEOUT', `Timed out after ${options.timeoutMs} ms waiting for ${what}; last seen: ${lastSeen}`, { data: { what, timeoutMs: options.timeoutMs, lastSeen } });
    }
    await delay(options.intervalMs ?? 50);
  }
}

/** Polls `predicate` until true or the deadline; returns whether it became true. */
export async function becomesTrue(predicate: () => Promise<boolean> | boolean, options: { readonly timeoutMs: number; readonly intervalMs?: number }): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() >= deadline) return false;
    await delay(options.intervalMs ?? 50);
  }
}
