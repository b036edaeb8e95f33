import { setTimeout as delay } from 'node:timers/promises';
import { TeardownStack } from '../teardown.js';
import { HostLeaseHeldError } from './HostLeaseError.js';
import type { HostLease } from './HostLease.js';
import type { LeaseRecord } from './HostLeaseRecord.js';

/**
 * Both hosts of a pair leased, or neither (design.md §8: a run takes a lease on one host pair).
 * Hosts are tried in name order, so two controllers after the same pair contend on the same host
 * first; a host taken is never held while waiting for the other, so no two runs block each other.
 */
export class HostLeasePair {
  private constructor(readonly leases: readonly [HostLease, HostLease]) {}

  static async acquire(a: HostLease, b: HostLease, options: { readonly waitMs?: number; readonly pollIntervalMs?: number } = {}): Promise<HostLeasePair> {
    const [first, second] = [a, b].sort((x, y) => x.host.localeCompare(y.host)) as [HostLease, HostLease];
    const startedAt = Date.now();
    const deadline = startedAt + (options.waitMs ?? 0);
    for (;;) {
      let blocker: { lease: HostLease; heldBy: LeaseRecord; hostNowS: number };
      const one = await first.tryAcquire();
      if (one.isAcquired) {
        let two;
        try {
          two = await second.tryAcquire();
        } catch (error) {
          await first.release();
          throw error;
        }
        if (two.isAcquired) return new HostLeasePair([a, b]);
        await first.release();
        blocker = { lease: second, heldBy: two.heldBy, hostNowS: two.hostNowS };
      } else {
        blocker = { lease: first, heldBy: one.heldBy, hostNowS: one.hostNowS };
      }
      if (Date.now() >= deadline) {
        throw new HostLeaseHeldError(blocker.lease.host, blocker.lease.where, blocker.heldBy, blocker.hostNowS, (options.waitMs ?? 0) > 0 ? Date.now() - startedAt : 0);
      }
      await delay(Math.min(options.pollIntervalMs ?? 1000, Math.max(1, deadline - Date.now())));
    }
  }

  get isHeld(): boolean {
    return this.leases.every((l) => l.isHeld);
  }

  /** Releases both; a failure on one does not keep the other leased. */
  async release(): Promise<void> {
    const stack = new TeardownStack(`the lease on ${this.leases.map((l) => l.host).join(' + ')}`);
    for (const lease of this.leases) stack.push(`release the lease on ${lease.host}`, () => lease.release());
    await stack.run();
  }
}

/** Leases both hosts or neither; see HostLeasePair. */
export function acquirePair(a: HostLease, b: HostLease, options: { readonly waitMs?: number; readonly pollIntervalMs?: number } = {}): Promise<HostLeasePair> {
  return HostLeasePair.acquire(a, b, options);
}
