/** One QMP event as the client keeps it (history, listener queues, waiters). */
export interface QmpEvent {
  /** Position in this connection's event stream, from 0; `since` arguments refer to it. */
  readonly seq: number;
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
  /**
   * QEMU's own timestamp (the host's wall clock, `timestamp {seconds, microseconds}`) in ms since
   * the epoch, with the microseconds kept as the fraction. NaN if QEMU sent none.
   */
  readonly timestampMs: number;
  /** When the controller read it (Date.now()); differs from timestampMs by transport delay and clock offset. */
  readonly receivedAtMs: number;
}

/** Select events by a subset of their `data` ({status: "completed"}) or by a predicate. */
export type EventMatch = Readonly<Record<string, unknown>> | ((event: QmpEvent) => boolean);

export function matchesEvent(event: QmpEvent, name: string, match: EventMatch | undefined): boolean {
  if (event.name !== name) return false;
  if (match === undefined) return true;
  if (typeof match === 'function') return match(event);
  return isSubset(match, event.data);
}

export function describeMatch(name: string, match: EventMatch | undefined): string {
  if (match === undefined) return `event ${name}`;
  if (typeof match === 'function') return `event ${name} matching ${match.name === '' ? 'a predicate' : match.name}`;
  return `event ${name} with data ${JSON.stringify(match)}`;
}

export function describeEvent(event: QmpEvent): string {
  const data = Object.keys(event.data).length === 0 ? '' : ` ${JSON.stringify(event.data)}`;
  return `#${event.seq} ${event.name}${data}`;
}

function isSubset(expected: unknown, actual: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return Object.is(expected, actual);
  if (actual === null || typeof actual !== 'object') return false;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((v, i) => isSubset(v, actual[i]));
  }
  const actualRecord = actual as Record<string, unknown>;
  return Object.entries(expected as Record<string, unknown>).every(([key, value]) => isSubset(value, actualRecord[key]));
}

/** QMP's `timestamp {seconds, microseconds}` as ms since the epoch (fraction = sub-ms part). */
export function timestampToMs(timestamp: unknown): number {
  if (timestamp === null || typeof timestamp !== 'object') return Number.NaN;
  const { seconds, microseconds } = timestamp as { seconds?: unknown; microseconds?: unknown };
  if (typeof seconds !== 'number' || typeof microseconds !== 'number') return Number.NaN;
  return seconds * 1000 + microseconds / 1000;
}
