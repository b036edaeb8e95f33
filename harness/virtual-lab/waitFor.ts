import { setTimeout as delay } from 'node:timers/promises';
import { VirtualLabError } from './VirtualLabError.js';

/** One look at the thing being waited for: done with a value, or not yet with what was seen. */
export type Probe<T> = { readonly isDone: true; readonly value: T } | { readonly isDone: false; readonly seen: string };

/**
 * Polls `probe` until it is done or `timeoutMs` passes; the timeout error names what was awaited
 * and the last thing seen, so a stuck lab says why.
 */
export async function waitFor<T>(what: string, probe: () => Promise<Probe<T>> | Probe<T>, options: { timeoutMs: number; intervalMs?: number }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 25;
  let lastSeen = 'nothing yet';
  for (;;) {
    const result = await probe();
    if (result.isDone) return result.value;
    lastSeen = result.seen;
    if (Date.now() >= deadline) {
      throw new VirtualLabError('LAB_WAIT_TIMEOUT', `Timed out after ${options.timeoutMs} ms waiting for ${what}; last seen: ${lastSeen}`, {
        data: { what, timeoutMs: options.timeoutMs, lastSeen },
      });
    }
    await delay(intervalMs);
  }
}

/** Polls `predicate` until true or `timeoutMs` passes; returns whether it became true. */
export async function pollUntil(predicate: () => boolean, options: { timeoutMs: number; intervalMs?: number }): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (predicate()) return true;
    if (Date.now() >= deadline) return false;
    await delay(options.intervalMs ?? 25);
  }
}
