import * as chai from 'chai';
import type { MigrationRecord } from '../migration/MigrationRecord.js';
import { migrationAssertions } from './migrationAssertions.js';

chai.use(migrationAssertions);
const { expect } = chai;

function record(overrides: Partial<MigrationRecord>): MigrationRecord {
  return {
    id: 'm1', source: { host: 'host-a', vm: 'a' }, destination: { host: 'host-b', vm: 'b' }, uri: 'tcp:x:1',
    startedAtMs: 0, endedAtMs: 1, capabilities: {}, parameters: {}, blockedReasons: [], outcome: 'completed', reason: null,
    finalInfo: { source: null, destination: null }, samples: [], events: [], hooks: [], isSourceResumed: null,
    clockOffsetMs: { source: 0, destination: 0 }, probe: null, measurements: { downtimeMs: 12, guestOutageMs: 40, totalTimeMs: 700 },
    ...overrides,
  };
}

describe('migration assertions', () => {
  it('pass on a completed migration within its limits', () => {
    expect(record({})).to.have.completed();
    expect(record({})).downtimeBelow(13);
    expect(record({})).outageBelow(41);
  });

  it('fail with the record figures in the message', () => {
    expect(() => expect(record({})).downtimeBelow(10)).to.throw(/downtime 12 ms to be below 10 ms.*outcome completed.*total 700 ms/);
    expect(() => expect(record({ outcome: 'failed', reason: 'boom' })).to.have.completed()).to.throw(/to complete — .*outcome failed; reason "boom"/);
    expect(() => expect(record({ measurements: {} })).outageBelow(100)).to.throw(/there is no guest outage/);
  });

  it('match blockers and failure reasons by substring', () => {
    const blocked = record({ outcome: 'blocked', reason: '0000:00:13.0: VFIO migration init failed', blockedReasons: ['0000:00:13.0: VFIO migration init failed'] });
    expect(blocked).blockedWith('VFIO migration init failed');
    expect(() => expect(blocked).blockedWith('vIOMMU')).to.throw(/blocked with "vIOMMU"/);
    const failed = record({ outcome: 'failed', reason: 'vfio_container_dma_unmap(0x1, 0x100000000000, 0x100000000000) = -7 (Argument list too long)' });
    expect(failed).failedWith('Argument list too long');
    expect(() => expect(failed).failedWith('Bad address')).to.throw(/fail with "Bad address"/);
    expect(() => expect({}).to.have.completed()).to.throw(/expected a MigrationRecord/);
  });
});
