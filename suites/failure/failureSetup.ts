import { readBootId } from '../../harness/guest/readBootId.js';
import type { ProbeStream } from '../../harness/measure/ProbeStream.js';
import type { MigrationRecord } from '../../harness/migration/MigrationRecord.js';
import type { LabSession } from '../../harness/session/LabSession.js';
import type { LaunchOptions } from '../../harness/session/LaunchOptions.js';
import type { LabVm } from '../../harness/session/LabVm.js';
import type { TestScope } from '../../harness/session/TestScope.js';
import { waitFor } from '../../harness/waitFor.js';

/**
 * Failures are injected during pre-copy, so pre-copy must last: ~95 MiB of an idle 256 MiB guest
 * at 16 MiB/s takes ~6 s, and hooks fire 300 ms into the active phase.
 */
export const FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC = 16 * 1024 * 1024;
export const FAILURE_HOOK_AT = { kind: 'activeFor', ms: 300 } as const;

/** brief §7 D, for every test of the failure suites. */
export const FAILURE_REFERENCES: readonly string[] = [
  'vfio-migration brief §7 D (cancel, destination killed, exit-on-error) and §2.3 (on MIG_EVENT_FAILED the source device goes back to RUNNING)',
  'QEMU qapi/migration.json: migrate-incoming exit-on-error (since 9.1), query-migrate error-desc',
];

export interface RunningGuest {
  readonly vm: LabVm;
  readonly probe: ProbeStream;
  readonly bootId: string;
}

/** The source VM, booted and answering the probe stream, with its boot id read. */
export async function startSourceGuest(lab: LabSession, scope: TestScope, options: Partial<LaunchOptions> = {}): Promise<RunningGuest> {
  const vm = await lab.launchVm(scope, { host: lab.pair.source, role: 'src', ...options });
  const probe = await lab.startProbe(scope);
  await vm.waitForEcho(probe, lab.lab.defaults.timeouts.bootMs);
  return { vm, probe, bootId: await readBootId(vm.openConsole()) };
}

/**
 * Waits until the source's query-migrate samples show no new RAM bytes for `quietMs`: the
 * migration stream is stalled. Returns the stalled byte count and when the stall began.
 */
export async function waitForStall(record: MigrationRecord, options: { readonly quietMs: number; readonly timeoutMs: number }): Promise<{ readonly bytes: number; readonly sinceMs: number }> {
  return waitFor(
    `the migration stream to stall (no new RAM bytes for ${options.quietMs} ms)`,
    () => {
      const samples = record.samples.filter((s) => s.ramTransferredBytes !== undefined);
      const last = samples[samples.length - 1];
      if (last === undefined) return { isDone: false, seen: 'no samples with RAM figures yet' };
      const firstSame = samples.findIndex((s) => s.ramTransferredBytes === last.ramTransferredBytes);
      const quietForMs = last.atMs - samples[firstSame]!.atMs;
      if (last.status === 'active' && quietForMs >= options.quietMs) return { isDone: true, value: { bytes: last.ramTransferredBytes!, sinceMs: samples[firstSame]!.atMs } };
      return { isDone: false, seen: `status ${last.status}, ${last.ramTransferredBytes} bytes, unchanged for ${quietForMs} ms` };
    },
    { timeoutMs: options.timeoutMs, intervalMs: 100 },
  );
}
