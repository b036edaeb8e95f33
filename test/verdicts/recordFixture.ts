import type { EventRecord, MigrationRecord } from '../../harness/migration/MigrationRecord.js';

/** A completed migration on the controller's clock: source STOP at 1000 ms, destination RESUME received at 1040 ms. */
export function completedRecord(overrides: Partial<MigrationRecord> = {}): MigrationRecord {
  const event = (side: 'source' | 'destination', name: string, atMs: number): EventRecord => ({ side, name, data: {}, hostTimestampMs: atMs, receivedAtMs: atMs });
  return {
    id: 'm1', source: { host: 'host-a', vm: 'a' }, destination: { host: 'host-b', vm: 'b' }, uri: 'tcp:x:1',
    startedAtMs: 0, endedAtMs: 1200, capabilities: {}, parameters: {}, blockedReasons: [], outcome: 'completed', reason: null,
    finalInfo: { source: null, destination: null }, samples: [], hooks: [], isSourceResumed: null,
    events: [event('source', 'STOP', 1000), event('destination', 'RESUME', 1040)],
    clockOffsetMs: { source: 0, destination: 0 }, probe: null, measurements: { downtimeMs: 12, totalTimeMs: 1100 },
    ...overrides,
  };
}
