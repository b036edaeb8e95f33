import type { EventRecord, MigrationRecord, OutageBreakdown, OutageFlag } from './MigrationRecord.js';

/** Source statuses QEMU reports only once the guest is stopped (precopy). */
const STOPPED_STATUSES = new Set(['device', 'pre-switchover', 'completed']);

function lastEvent(events: readonly EventRecord[], side: EventRecord['side'], name: string): EventRecord | undefined {
  return [...events].reverse().find((e) => e.side === side && e.name === name);
}

function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * Places the probe's longest gap on the timeline of STOP → RESUME. Null when a piece is missing
 * (no probe, no gap, or no STOP/RESUME: a migration that did not switch over has no pause to cut).
 *
 * Flags: the outage began more than one probe period before STOP (the guest stopped answering
 * while it still ran: starved by pre-copy, or a clock offset gone wrong), or the parts miss the
 * outage by more than one probe period (the longest gap is not the switchover's, or it ended
 * before RESUME, which a correct clock offset cannot produce), or the controller's own query-migrate
 * samples saw the source stopped before the STOP event's place on the controller's clock (the
 * hosts' wall clocks moved against the controller's since their offsets were measured).
 */
export function outageBreakdown(record: Pick<MigrationRecord, 'events' | 'clockOffsetMs' | 'probe'> & Partial<Pick<MigrationRecord, 'samples'>>): OutageBreakdown | null {
  const probe = record.probe;
  if (probe === null || probe.gapStartMs === null || probe.gapEndMs === null) return null;
  const stop = lastEvent(record.events, 'source', 'STOP');
  const resume = lastEvent(record.events, 'destination', 'RESUME');
  if (stop === undefined || resume === undefined) return null;
  const resolutionMs = 1000 / probe.rateHz;
  const stopMs = stop.hostTimestampMs - record.clockOffsetMs.source;
  const resumeMs = resume.hostTimestampMs - record.clockOffsetMs.destination;
  const outageMs = probe.gapEndMs - probe.gapStartMs;
  const beforeStopMs = Math.max(0, stopMs - probe.gapStartMs);
  const pauseMs = resumeMs - stopMs;
  const afterResumeMs = Math.max(0, probe.gapEndMs - resumeMs);
  const flags: OutageFlag[] = [];
  if (beforeStopMs > resolutionMs) {
    flags.push({
      code: 'OUTAGE_BEFORE_STOP',
      text: `the guest stopped answering ${beforeStopMs.toFixed(1)} ms before the source's STOP, more than one probe period (${resolutionMs.toFixed(1)} ms): it was not paused yet, so something else (pre-copy starving the guest, or a wrong clock offset) made it silent`,
    });
  }
  const partsMs = beforeStopMs + pauseMs + afterResumeMs;
  if (Math.abs(partsMs - outageMs) > resolutionMs) {
    flags.push({
      code: 'OUTAGE_PARTS_DO_NOT_ADD_UP',
      text: `before STOP ${beforeStopMs.toFixed(1)} + pause ${pauseMs.toFixed(1)} + after RESUME ${afterResumeMs.toFixed(1)} = ${partsMs.toFixed(1)} ms, but the outage is ${outageMs.toFixed(1)} ms (resolution ${resolutionMs.toFixed(1)} ms): the longest gap does not span STOP → RESUME; check the clock offsets and the probe's reply times`,
    });
  }
  // The sample's time is when its answer arrived, so the source had stopped by then: a STOP placed
  // later than that is a clock error, whatever the probe saw.
  const firstStopped = (record.samples ?? []).find((sample) => STOPPED_STATUSES.has(sample.status));
  if (firstStopped !== undefined && stopMs - firstStopped.atMs > resolutionMs) {
    flags.push({
      code: 'OUTAGE_CLOCKS_DISAGREE',
      text: `the controller's query-migrate saw the source "${firstStopped.status}" ${(stopMs - firstStopped.atMs).toFixed(1)} ms before the source's STOP event as placed with the measured clock offset (${record.clockOffsetMs.source} ms): the host's wall clock moved against the controller's clock after the offset was measured, so this breakdown is not trustworthy; re-measure the offsets (hil preflight) and check what adjusts the clock`,
    });
  }
  return {
    resolutionMs: round3(resolutionMs),
    outageStartMs: probe.gapStartMs, outageEndMs: probe.gapEndMs, outageMs: round3(outageMs),
    stopMs: round3(stopMs), resumeMs: round3(resumeMs),
    beforeStopMs: round3(beforeStopMs), pauseMs: round3(pauseMs), afterResumeMs: round3(afterResumeMs),
    flags,
  };
}
