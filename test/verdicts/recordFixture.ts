import type { EventRecord, MigrationRecord } from '../../harness/migration/MigrationRecord.js';

/** A completed migration: source STOP at 1000 ms, the source's query-migrate says "completed" at 1030 ms, destination RESUME at 1040 ms. */
export function completedRecord(overrides: Partial<MigrationRecord> = {}): MigrationRecord {
  const event = (side: 'source' | 'destination', name: string, atMs: number): EventRecord => ({ side, name, data: {}, hostTimestampMs: atMs, receivedAtMs: atMs });
  return {
    id: 'm1', source: { host: 'host-a', vm: 'a' }, destination: { host: 'host-b', vm: 'b' }, uri: 'tcp:x:1',
    startedAtMs: 0, endedAtMs: 1200, capabilities: {}, parameters: {}, blockedReasons: [], outcome: 'completed', reason: null,
    finalInfo: { source: null, destination: null }, hooks: [], isSourceResumed: null,
    samples: [{ atMs: 900, status: 'active', dirtySyncCount: 2 }, { atMs: 1030, status: 'completed', dirtySyncCount: 3 }],
    events: [event('source', 'STOP', 1000), event('destination', 'RESUME', 1040)],
    clockOffsetMs: { source: 0, destination: 0 }, probe: null, measurements: { downtimeMs: 12, totalTimeMs: 1100 },
    ...overrides,
  };
}
