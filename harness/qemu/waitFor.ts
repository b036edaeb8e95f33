import { setTimeout as delay } from 'node:timers/promises';
import { QemuTimeoutError } from './errors.js';

/** One look at what is awaited: done (with a value), or not yet (with what was seen). */
export type Probe<T> = { readonly isDone: true; readonly value: T } | { readonly isDone: false; readonly seen: string };

/**
 * Polls `probe` until done or the deadline; a QemuTimeoutError names what it waited for and the
 * last thing seen. A probe may also throw to stop the wait early (e.g. "the process died").
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<Probe<T>>,
  options: { readonly timeoutMs: number; readonly intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastSeen = 'nothing yet';
  for (;;) {
    const result = await probe();
    if (result.isDone) return result.value;
    lastSeen = result.seen;
    if (Date.now() >= deadline) throw new QemuTimeoutError(what, options.timeoutMs, lastSeen);
    await delay(options.intervalMs ?? 50);
  }
}

/** Polls `predicate` until true or the deadline; returns whether it became true. */
export async function becomesTrue(
  predicate: () => Promise<boolean>,
  options: { readonly timeoutMs: number; readonly intervalMs?: number },
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() >= deadline) return false;
    await delay(options.intervalMs ?? 50);
  }
}
