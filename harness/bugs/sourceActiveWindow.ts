import { HarnessError } from '../errors.js';
import type { MigrationRecord } from '../migration/MigrationRecord.js';

/**
 * The source's active phase in host wall-clock ms, from its MIGRATION "active" event to its final
 * status: the window in which trace lines count as "during migration" (trace lines and QMP
 * events share the host clock).
 */
export function sourceActiveWindow(record: MigrationRecord): { fromMs: number; toMs: number } {
  const statuses = record.events.filter((e) => e.side === 'source' && e.name === 'MIGRATION');
  const active = statuses.find((e) => e.data['status'] === 'active');
  const end = statuses.find((e) => ['completed', 'failed', 'cancelled'].includes(String(e.data['status'])));
  if (active === undefined || end === undefined) {
    throw new HarnessError('NO_ACTIVE_WINDOW', `Migration ${record.id} has no source MIGRATION active→final events (saw ${statuses.map((e) => String(e.data['status'])).join(', ') || 'none'})`);
  }
  return { fromMs: active.hostTimestampMs, toMs: end.hostTimestampMs };
}
