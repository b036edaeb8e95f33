import { InfrastructureError } from '../errors.js';
import type { QmpPeer } from './QmpPeer.js';

/** The lab file key behind each QEMU migration parameter, for errors that say what to change. */
const LAB_KEY: Readonly<Record<string, string>> = {
  'downtime-limit': 'defaults.migration.downtimeLimitMs',
  'max-bandwidth': 'defaults.migration.maxBandwidthBytesPerSec',
  'avail-switchover-bandwidth': 'defaults.migration.switchoverBandwidthBytesPerSec',
};

/** The rates a migration is asked for (MigrationOptions extends it). */
export interface MigrationRates {
  readonly downtimeLimitMs: number;
  readonly maxBandwidthBytesPerSec: number;
  /** QEMU avail-switchover-bandwidth; absent or 0: QEMU plans the switchover with its own estimate. */
  readonly switchoverBandwidthBytesPerSec?: number;
}

/**
 * The parameters set on the source with migrate-set-parameters. avail-switchover-bandwidth is
 * only sent when asked for: 0 is QEMU's default (plan with its own estimate), and QEMU before 8.2
 * does not know the parameter.
 */
export function migrationParameters(options: MigrationRates): Record<string, number> {
  const parameters: Record<string, number> = { 'downtime-limit': options.downtimeLimitMs, 'max-bandwidth': options.maxBandwidthBytesPerSec };
  const switchover = options.switchoverBandwidthBytesPerSec ?? 0;
  if (switchover > 0) parameters['avail-switchover-bandwidth'] = switchover;
  return parameters;
}

/**
 * Fails with a lab ERROR naming the lab file key when this QEMU has no such parameter: QEMU's own
 * answer ("Parameter 'x' is unexpected") names neither the key nor the QEMU version needed.
 */
export async function assertParametersKnown(qmp: QmpPeer, parameters: Readonly<Record<string, number>>, host: string): Promise<void> {
  const known = await qmp.execute<Record<string, unknown>>('query-migrate-parameters');
  const unknown = Object.keys(parameters).filter((name) => !(name in known));
  if (unknown.length === 0) return;
  const described = unknown.map((name) => `${name} (${LAB_KEY[name] ?? 'set by the test'})`).join(', ');
  throw new InfrastructureError('MIGRATION_PARAMETER_UNKNOWN',
    `QEMU on ${host} has no migration parameter ${described}: query-migrate-parameters lists ${Object.keys(known).length} others. `
    + 'Remove the key from the lab file or use a QEMU build that has the parameter (avail-switchover-bandwidth: QEMU 8.2 and later).',
    { data: { host, unknown } });
}
