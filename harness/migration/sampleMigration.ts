import type { MigrationSample } from './MigrationRecord.js';

function n(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Reduces a query-migrate answer (MigrationInfo) to a sample; absent fields stay absent. */
export function sampleMigration(info: Readonly<Record<string, unknown>>, atMs: number): MigrationSample {
  const ram = (info['ram'] ?? {}) as Record<string, unknown>;
  const vfio = (info['vfio'] ?? {}) as Record<string, unknown>;
  const fields: Record<string, unknown> = {
    atMs,
    status: typeof info['status'] === 'string' ? info['status'] : 'none',
    totalTimeMs: n(info['total-time']),
    expectedDowntimeMs: n(info['expected-downtime']),
    ramTransferredBytes: n(ram['transferred']),
    ramRemainingBytes: n(ram['remaining']),
    ramTotalBytes: n(ram['total']),
    dirtySyncCount: n(ram['dirty-sync-count']),
    mbps: n(ram['mbps']),
    // QEMU's own measure of how fast the guest dirties RAM, over its last dirty-bitmap syncs.
    dirtyBytesPerSec: n(ram['dirty-pages-rate']) !== undefined ? n(ram['dirty-pages-rate'])! * (n(ram['page-size']) ?? 4096) : undefined,
    vfioTransferredBytes: n(vfio['transferred']),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as unknown as MigrationSample;
}

export const FINAL_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);
