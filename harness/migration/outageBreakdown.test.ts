import { expect } from 'chai';
import type { EventRecord, MigrationRecord } from './MigrationRecord.js';
import { computeMeasurements } from './computeMeasurements.js';
import { outageBreakdown } from './outageBreakdown.js';

type Input = Pick<MigrationRecord, 'events' | 'clockOffsetMs' | 'probe' | 'samples'>;

const event = (side: EventRecord['side'], name: string, hostTimestampMs: number): EventRecord => ({ side, name, data: {}, hostTimestampMs, receivedAtMs: hostTimestampMs });

/** STOP at 1000 on the source's clock, RESUME at 1040 on the destination's; 100 Hz probe. */
function record(gapStartMs: number, gapEndMs: number, clockOffsetMs = { source: 0, destination: 0 }): Input {
  return {
    events: [event('source', 'STOP', 1000 + clockOffsetMs.source), event('destination', 'RESUME', 1040 + clockOffsetMs.destination)],
    clockOffsetMs,
    samples: [{ atMs: 900, status: 'active' }, { atMs: 1002, status: 'device' }, { atMs: 1060, status: 'completed' }],
    probe: { guestOutageMs: gapEndMs - gapStartMs, gapStartMs, gapEndMs, sent: 100, received: 90, lost: 10, rateHz: 100 },
  };
}

describe('outageBreakdown', () => {
  it('cuts the outage at STOP and RESUME, the parts adding up to it', () => {
    const b = outageBreakdown(record(995, 1120))!;
    expect(b).to.include({ resolutionMs: 10, outageMs: 125, beforeStopMs: 5, pauseMs: 40, afterResumeMs: 80 });
    expect(b.beforeStopMs + b.pauseMs + b.afterResumeMs).to.equal(b.outageMs);
    expect(b.flags).to.deep.equal([]);
  });

  it('moves each host\'s events by its own clock offset before cutting', () => {
    // The hosts' clocks run 250 ms ahead and 400 ms behind the controller's: the same instants.
    const b = outageBreakdown(record(995, 1120, { source: 250, destination: -400 }))!;
    expect(b).to.include({ stopMs: 1000, resumeMs: 1040, beforeStopMs: 5, pauseMs: 40, afterResumeMs: 80 });
    expect(b.flags).to.deep.equal([]);
  });

  it('flags an outage that began more than one probe period before STOP', () => {
    const b = outageBreakdown(record(960, 1100))!;
    expect(b.beforeStopMs).to.equal(40);
    expect(b.flags.map((f) => f.code)).to.deep.equal(['OUTAGE_BEFORE_STOP']);
    expect(b.flags[0]!.text).to.match(/40\.0 ms before the source's STOP.*10\.0 ms/);
  });

  it('does not flag a last reply within one probe period of STOP', () => {
    expect(outageBreakdown(record(990, 1100))!.flags).to.deep.equal([]);
  });

  it('flags parts that do not add up: a gap that ends before RESUME', () => {
    // A reply during the pause cannot happen with right clock offsets.
    const b = outageBreakdown(record(998, 1010))!;
    expect(b.afterResumeMs).to.equal(0);
    expect(b.flags.map((f) => f.code)).to.deep.equal(['OUTAGE_PARTS_DO_NOT_ADD_UP']);
    expect(b.flags[0]!.text).to.match(/= 42\.0 ms, but the outage is 12\.0 ms/);
  });

  it('flags parts that do not add up: the longest gap lies elsewhere than the switchover', () => {
    const b = outageBreakdown(record(400, 700))!;
    expect(b.flags.map((f) => f.code)).to.include('OUTAGE_PARTS_DO_NOT_ADD_UP');
  });

  it('flags clocks that disagree: the controller saw the source stopped well before the STOP event', () => {
    // The hosts' wall clocks stepped 200 ms ahead after their offsets were measured: the probe's
    // gap and the samples (controller clock) now lie 200 ms before STOP and RESUME as placed.
    const input = record(995, 1120);
    const stepped = { ...input, events: input.events.map((e) => ({ ...e, hostTimestampMs: e.hostTimestampMs + 200 })) };
    const b = outageBreakdown(stepped)!;
    expect(b.flags.map((f) => f.code)).to.include('OUTAGE_CLOCKS_DISAGREE');
    expect(b.flags.find((f) => f.code === 'OUTAGE_CLOCKS_DISAGREE')!.text).to.match(/saw the source "device" 198\.0 ms before the source's STOP event/);
    // The same migration with clocks that agree carries no such flag.
    expect(outageBreakdown(input)!.flags).to.deep.equal([]);
  });

  it('is null without a probe gap or without STOP and RESUME', () => {
    expect(outageBreakdown({ ...record(995, 1120), probe: null })).to.equal(null);
    expect(outageBreakdown({ ...record(995, 1120), events: [event('source', 'STOP', 1000)] })).to.equal(null);
  });

  it('puts the parts into the measurements of a completed migration', () => {
    const full = {
      ...record(995, 1120), outcome: 'completed', finalInfo: { source: { downtime: 30 }, destination: null },
    } as unknown as MigrationRecord;
    expect(computeMeasurements(full)).to.include({ outageBeforeStopMs: 5, outageAfterResumeMs: 80, pauseWindowMs: 40 });
    expect(computeMeasurements({ ...full, outcome: 'failed' })).to.not.have.property('outageAfterResumeMs');
  });
});
