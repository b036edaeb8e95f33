import { expect } from 'chai';
import { InfrastructureError } from '../errors.js';
import { rejectionOf } from '../../test/support/rejectionOf.js';
import type { QmpPeer } from './QmpPeer.js';
import { assertParametersKnown, migrationParameters } from './migrationParameters.js';

/** A QEMU older than 8.2 answers query-migrate-parameters without avail-switchover-bandwidth. */
function qemuAnswering(parameters: Record<string, unknown>): QmpPeer {
  return {
    eventCursor: 0, history: [],
    execute: async <T>(command: string) => {
      if (command !== 'query-migrate-parameters') throw new Error(`unexpected ${command}`);
      return parameters as T;
    },
  };
}

describe('migrationParameters', () => {
  it('sends avail-switchover-bandwidth only when a rate is asked for', () => {
    expect(migrationParameters({ downtimeLimitMs: 100, maxBandwidthBytesPerSec: 1 << 30 })).to.deep.equal({ 'downtime-limit': 100, 'max-bandwidth': 1 << 30 });
    expect(migrationParameters({ downtimeLimitMs: 100, maxBandwidthBytesPerSec: 1 << 30, switchoverBandwidthBytesPerSec: 0 })).to.not.have.property('avail-switchover-bandwidth');
    expect(migrationParameters({ downtimeLimitMs: 100, maxBandwidthBytesPerSec: 1 << 30, switchoverBandwidthBytesPerSec: 1 << 25 })['avail-switchover-bandwidth']).to.equal(1 << 25);
  });

  it('a parameter this QEMU lacks is a lab ERROR naming the lab file key', async () => {
    const old = qemuAnswering({ 'downtime-limit': 300, 'max-bandwidth': 1 << 27, 'x-checkpoint-delay': 20000 });
    const error = await rejectionOf(assertParametersKnown(old, { 'downtime-limit': 100, 'avail-switchover-bandwidth': 1 << 25 }, 'host-a'));
    expect(error).to.be.instanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).to.equal('MIGRATION_PARAMETER_UNKNOWN');
    expect((error as Error).message).to.include('QEMU on host-a').and.include('avail-switchover-bandwidth (defaults.migration.switchoverBandwidthBytesPerSec)').and.include('QEMU 8.2');
  });

  it('passes when QEMU knows every parameter', async () => {
    await assertParametersKnown(qemuAnswering({ 'downtime-limit': 300, 'max-bandwidth': 1, 'avail-switchover-bandwidth': 0 }), { 'downtime-limit': 100, 'avail-switchover-bandwidth': 1 }, 'host-a');
  });
});
