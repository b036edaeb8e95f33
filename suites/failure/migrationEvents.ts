import type { MigrationRecord, Side } from '../../harness/migration/MigrationRecord.js';

/** The MIGRATION statuses one side reported, in order (brief §3.3). */
export function migrationStatuses(record: MigrationRecord, side: Side): string[] {
  return record.events.filter((e) => e.side === side && e.name === 'MIGRATION').map((e) => String(e.data['status']));
}

/** The VFIO_MIGRATION device states one side reported for a device id, in order (brief §3.3). */
export function vfioDeviceStates(record: MigrationRecord, side: Side, deviceId: string): string[] {
  return record.events
    .filter((e) => e.side === side && e.name === 'VFIO_MIGRATION' && e.data['device-id'] === deviceId)
    .map((e) => String(e.data['device-state']));
}
