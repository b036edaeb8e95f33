import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { outageBreakdown } from '../../migration/outageBreakdown.js';
import type { MigrationRecord } from '../../migration/MigrationRecord.js';
import type { MigrationResult } from '../RunResults.js';
import { html, type SafeHtml } from './safeHtml.js';
import type { OutageTimeline, TimelineData } from './PageData.js';

const MIB = 1048576;

/**
 * A migration's timeline from its MigrationRecord artifact: the 10 Hz samples, the QMP events
 * moved onto the controller's clock with each host's measured offset (design.md §6), the hooks
 * and the probe stream's replies and longest gap. Null when the record file is gone.
 */
export function timelineData(runDir: string, migration: MigrationResult, elementId: string): TimelineData | null {
  const file = join(runDir, migration.recordArtifact);
  if (!existsSync(file)) return null;
  const record = JSON.parse(readFileSync(file, 'utf8')) as MigrationRecord;
  const t0 = record.startedAtMs;
  const rel = (ms: number) => Math.round((ms - t0) * 1000) / 1000;
  const probe = record.probe;
  // Records written before the breakdown existed get it computed here from the same fields.
  const breakdown = record.outcome !== 'completed' ? null : (record.outageBreakdown ?? outageBreakdown(record));
  return {
    elementId,
    endMs: rel(record.endedAtMs > 0 ? record.endedAtMs : t0),
    samples: record.samples.map((s) => ({
      tMs: rel(s.atMs), status: s.status,
      transferredMiB: s.ramTransferredBytes === undefined ? null : s.ramTransferredBytes / MIB,
      remainingMiB: s.ramRemainingBytes === undefined ? null : s.ramRemainingBytes / MIB,
    })),
    events: record.events.map((e) => ({
      tMs: rel(e.hostTimestampMs - record.clockOffsetMs[e.side]), side: e.side, name: e.name,
      detail: typeof e.data['status'] === 'string' ? e.data['status'] : e.name === 'MIGRATION_PASS' ? `pass ${String(e.data['pass'])}` : '',
    })),
    hooks: record.hooks.map((h) => ({ tMs: rel(h.firedAtMs), name: `${h.name} (${h.phase})` })),
    probe: probe === null ? null : {
      gapStartMs: probe.gapStartMs === null ? null : rel(probe.gapStartMs),
      gapEndMs: probe.gapEndMs === null ? null : rel(probe.gapEndMs),
      replyMs: (probe.replyTimesMs ?? []).map(rel),
    },
    outage: breakdown === null ? null : {
      startMs: rel(breakdown.outageStartMs), stopMs: rel(breakdown.stopMs), resumeMs: rel(breakdown.resumeMs), endMs: rel(breakdown.outageEndMs),
      beforeStopMs: breakdown.beforeStopMs, pauseMs: breakdown.pauseMs, afterResumeMs: breakdown.afterResumeMs,
      outageMs: breakdown.outageMs, resolutionMs: breakdown.resolutionMs, flags: breakdown.flags,
    },
  };
}

/** The outage's parts in words under the timeline, and its flags as warnings. */
export function outageNote(outage: OutageTimeline | null): SafeHtml {
  if (outage === null) return html``;
  const f = (ms: number) => ms.toFixed(1);
  return html`<p class="legend-note">guest outage ${f(outage.outageMs)} ms = before STOP ${f(outage.beforeStopMs)} + pause ${f(outage.pauseMs)} + after RESUME until the first reply (network re-convergence) ${f(outage.afterResumeMs)} ms, each ±${f(outage.resolutionMs)} ms (the probe period). Inset: the outage enlarged; bar orange before STOP, red pause, blue after RESUME.</p>
${outage.flags.map((flag) => html`<p class="warn">${flag.code}: ${flag.text}</p>`)}`;
}

/** One line per phase: how long the source reported each status (setup, active, device, ...). */
export function phaseDurations(data: TimelineData): string {
  const phases: [string, number][] = [];
  data.samples.forEach((s, i) => {
    const next = data.samples[i + 1]?.tMs ?? data.endMs;
    const last = phases[phases.length - 1];
    if (last !== undefined && last[0] === s.status) last[1] += next - s.tMs;
    else phases.push([s.status, next - s.tMs]);
  });
  return phases.map(([status, ms]) => `${status} ${Math.round(ms)} ms`).join(' → ');
}
