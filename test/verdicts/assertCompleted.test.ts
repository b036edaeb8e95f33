import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import type { OutageReport } from '../../harness/measure/ProbeStream.js';
import { completedRecord } from './recordFixture.js';

chai.use(migrationAssertions);
const { expect } = chai;

/** A 100 Hz probe whose replies arrived at these controller times (ms). */
function probe(replyTimesMs: number[], sent = 120): OutageReport {
  return { guestOutageMs: 0, gapStartMs: null, gapEndMs: null, sent, received: replyTimesMs.length, lost: sent - replyTimesMs.length, rateHz: 100, replyTimesMs };
}

describe('completed(): the guest must answer on the destination when a probe ran', () => {
  it('passes when a reply came after the destination RESUME', () => {
    expect(completedRecord({ probe: probe([990, 995, 1062, 1070]) })).to.have.completed();
  });

  it('passes without a probe: nothing was asked of the guest', () => {
    expect(completedRecord()).to.have.completed();
  });

  it('negative control: a record whose destination never answered is not a completed migration', () => {
    // The guest answered on the source until STOP and never again: what a guest that died on the destination looks like.
    const silent = completedRecord({ probe: probe([900, 990, 995]), reason: 'guest did not answer after migration: No echo reply' });
    expect(() => expect(silent).to.have.completed()).to.throw(/never answered the probe from the destination: its last reply came 45\.0 ms before the destination's RESUME \(3 of 120 probes answered\)/);
  });

  it('negative control: no reply at all, or no RESUME to place the replies against, is not a pass', () => {
    expect(() => expect(completedRecord({ probe: probe([]) })).to.have.completed()).to.throw(/no reply at all/);
    const noResume = completedRecord({ probe: probe([990, 1062]), events: [] });
    expect(() => expect(noResume).to.have.completed()).to.throw(/no RESUME event from the destination/);
    const noTimes = completedRecord({ probe: { ...probe([1062]), replyTimesMs: undefined } as OutageReport });
    expect(() => expect(noTimes).to.have.completed()).to.throw(/keeps no reply times/);
  });
});
