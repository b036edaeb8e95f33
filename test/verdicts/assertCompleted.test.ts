import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import type { OutageReport } from '../../harness/migration/MigrationRecord.js';
import { completedRecord } from './recordFixture.js';

chai.use(migrationAssertions);
const { expect } = chai;

/** A 100 Hz probe whose replies arrived at these controller times (ms). */
function probe(replyTimesMs: number[], sent = 120): OutageReport {
  return { guestOutageMs: 0, gapStartMs: null, gapEndMs: null, sent, received: replyTimesMs.length, lost: sent - replyTimesMs.length, rateHz: 100, replyTimesMs };
}

describe('completed(): the guest must answer on the destination when a probe ran', () => {
  it('passes when a reply came after the source reported completed', () => {
    expect(completedRecord({ probe: probe([990, 995, 1062, 1070]) })).to.have.completed();
  });

  it('judges on the controller clock only: QMP events on a wall clock 2.3 s ahead do not matter', () => {
    // Seen on the virtual lab: Date.now() ran 2.3 s ahead of the monotonic controller clock during a run.
    const skewed = completedRecord({ probe: probe([990, 1062]), events: [{ side: 'destination', name: 'RESUME', data: {}, hostTimestampMs: 3340, receivedAtMs: 3341 }] });
    expect(skewed).to.have.completed();
  });

  it('passes without a probe: nothing was asked of the guest', () => {
    expect(completedRecord()).to.have.completed();
  });

  it('negative control: a record whose destination never answered is not a completed migration', () => {
    // The guest answered on the source until STOP and never again: what a guest that died on the destination looks like.
    const silent = completedRecord({ probe: probe([900, 990, 995]), reason: 'guest did not answer after migration: No echo reply' });
    expect(() => expect(silent).to.have.completed()).to.throw(/never answered the probe from the destination: its last reply came 35\.0 ms before the source reported "completed" \(3 of 120 probes answered\)/);
  });

  it('negative control: no reply at all, or no completed sample to place the replies against, is not a pass', () => {
    expect(() => expect(completedRecord({ probe: probe([]) })).to.have.completed()).to.throw(/no reply at all/);
    const noSample = completedRecord({ probe: probe([990, 1062]), samples: [] });
    expect(() => expect(noSample).to.have.completed()).to.throw(/no query-migrate sample saying "completed"/);
    const noTimes = completedRecord({ probe: { ...probe([1062]), replyTimesMs: undefined } as OutageReport });
    expect(() => expect(noTimes).to.have.completed()).to.throw(/keeps no reply times/);
  });
});
