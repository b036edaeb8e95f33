import type { MigrationRecord, Side } from '../../harness/migration/MigrationRecord.js';
import type { PhaseHook } from '../../harness/migration/PhaseHook.js';
import type { QmpPeer } from '../../harness/migration/QmpPeer.js';
import { FAILURE_HOOK_AT } from './failureSetup.js';

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

/**
 * Whether a migrate_cancel sent while the source said `statusAtCancel` is what failed the
 * migration. QEMU's cancel shuts down the return path's channel, which is the stream's socket
 * too, before it sets CANCELLING, so the migration thread can fail on it first: a cancel sent
 * while active, then `failed` with no `cancelling` event.
 */
export function wasFailedByCancel(record: MigrationRecord, statusAtCancel: string | null): boolean {
  return statusAtCancel === 'active' && record.outcome === 'failed' && !migrationStatuses(record, 'source').includes('cancelling');
}

/** The error-desc of the migration thread's write that QEMU's cancel race fails (wasFailedByCancel). */
export const CANCEL_RACE_ERROR_DESC = /^(Channel error: Input\/output error|Unable to write to socket: Broken pipe)$/;

/** migrate_cancel in pre-copy, remembering the source's status when it was sent (for wasFailedByCancel). */
export function cancelInPreCopy(source: QmpPeer): { readonly hook: PhaseHook; statusAtCancel(): string | null } {
  let status: string | null = null;
  const hook: PhaseHook = {
    name: 'migrate_cancel', at: FAILURE_HOOK_AT,
    action: async () => {
      status = (await source.execute<{ status: string }>('query-migrate')).status;
      await source.execute('migrate_cancel');
    },
  };
  return { hook, statusAtCancel: () => status };
}
