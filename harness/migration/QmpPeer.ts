import type { QmpEvent } from '../qmp/QmpEvent.js';

/** What the migration needs of a VM's QMP connection: QmpClient is one, a test double can be too. */
export interface QmpPeer {
  execute<T = unknown>(command: string, args?: Readonly<Record<string, unknown>>, options?: { readonly timeoutMs?: number }): Promise<T>;
  /** seq of the next event to arrive. */
  readonly eventCursor: number;
  /** The bounded event history, oldest first. */
  readonly history: readonly QmpEvent[];
}
