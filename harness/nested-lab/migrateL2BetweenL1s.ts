import type { GuestImageSpec } from '../config/types.js';
import type { SshTransport } from '../ssh/SshTransport.js';
import { waitFor } from '../waitFor.js';
import { L2_READY } from './bootL2InL1.js';
import { L2SmokeVm } from './L2SmokeVm.js';
import { NestedLabError } from './NestedLabError.js';

export interface L1Endpoint {
  readonly transport: SshTransport;
  readonly workDir: string;
}

export interface L2MigrationOptions {
  /** The destination L1's address on the lab network, where the migration stream goes. */
  readonly destinationAddress: string;
  readonly port: number;
  /** The L2's NIC: the same tap name and MAC on both L1s (its address moves with it). */
  readonly network: { readonly tap: string; readonly mac: string };
  readonly bootTimeoutMs: number;
  readonly migrationTimeoutMs: number;
  /** Runs with the L2 up on the source, then again once it runs on the destination. */
  readonly probe?: (phase: 'before' | 'after') => Promise<void>;
}

export interface L2MigrationResult {
  readonly status: string;
  readonly totalTimeMs: number;
  readonly downtimeMs: number;
  readonly destinationStatus: string;
}

interface QueryMigrate {
  readonly status?: string;
  readonly 'total-time'?: number;
  readonly downtime?: number;
  readonly 'error-desc'?: string;
}

/**
 * Live-migrates a plain L2 (kvm in both L1s, virtio NIC on br0) from one L1 to the other over the
 * lab network: the path the nested lab's VFIO migrations take, proven without a VFIO device.
 */
export async function migrateL2BetweenL1s(source: L1Endpoint, destination: L1Endpoint, guest: GuestImageSpec, options: L2MigrationOptions): Promise<L2MigrationResult> {
  const common = { accelerator: 'kvm' as const, network: options.network };
  const target = new L2SmokeVm(destination.transport, guest, { ...common, name: 'l2mig-dst', workDir: destination.workDir, incomingPort: options.port });
  const origin = new L2SmokeVm(source.transport, guest, { ...common, name: 'l2mig-src', workDir: source.workDir });
  try {
    await target.launch();
    await origin.launch();
    await origin.waitForConsole(L2_READY, options.bootTimeoutMs);
    await options.probe?.('before');
    const sourceQmp = await origin.openQmp();
    const destinationQmp = await target.openQmp();
    try {
      await sourceQmp.execute('migrate', { uri: `tcp:${options.destinationAddress}:${options.port}` });
      const final = await waitFor(
        `migration of the L2 from ${source.transport.where} to ${options.destinationAddress}:${options.port}`,
        async () => {
          const info = await sourceQmp.execute<QueryMigrate>('query-migrate');
          const status = info.status ?? 'none';
          if (status === 'failed' || status === 'cancelled') {
            throw new NestedLabError('NESTED_L2_MIGRATION_FAILED', `L2 migration between L1s ${status}: ${info['error-desc'] ?? 'no error-desc'}`);
          }
          return status === 'completed' ? { isDone: true, value: info } : { isDone: false, seen: status };
        },
        { timeoutMs: options.migrationTimeoutMs, intervalMs: 200 },
      );
      // Without a return path the source says "completed" once it has sent the stream; the
      // destination may still be loading it ("inmigrate"). Its state is read once it has left that.
      const destinationStatus = await waitFor(`the L2 on ${options.destinationAddress} to leave inmigrate`, async () => {
        const status = (await destinationQmp.execute<{ status: string }>('query-status')).status;
        return status === 'inmigrate' ? { isDone: false, seen: status } : { isDone: true, value: status };
      }, { timeoutMs: options.migrationTimeoutMs, intervalMs: 200 });
      await options.probe?.('after');
      return { status: final.status ?? 'completed', totalTimeMs: final['total-time'] ?? NaN, downtimeMs: final.downtime ?? NaN, destinationStatus };
    } finally {
      await sourceQmp.close();
      await destinationQmp.close();
    }
  } finally {
    await origin.stop();
    await target.stop();
  }
}
