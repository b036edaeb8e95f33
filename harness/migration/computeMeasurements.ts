import { outageBreakdown } from './outageBreakdown.js';
import type { EventRecord, Measurements, MigrationRecord } from './MigrationRecord.js';

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function lastEvent(events: readonly EventRecord[], side: EventRecord['side'], name: string): EventRecord | undefined {
  return [...events].reverse().find((e) => e.side === side && e.name === name);
}

/**
 * The guest's pause as the two hosts saw it: destination RESUME − source STOP, each moved onto the
 * controller's clock with that host's measured offset (design.md §6).
 */
export function pauseWindowMs(record: Pick<MigrationRecord, 'events' | 'clockOffsetMs'>): number | undefined {
  const stop = lastEvent(record.events, 'source', 'STOP');
  const resume = lastEvent(record.events, 'destination', 'RESUME');
  if (stop === undefined || resume === undefined) return undefined;
  const stopOnController = stop.hostTimestampMs - record.clockOffsetMs.source;
  const resumeOnController = resume.hostTimestampMs - record.clockOffsetMs.destination;
  return Math.round((resumeOnController - stopOnController) * 1000) / 1000;
}

/** Figures from the source's final query-migrate, the events and the probe stream. */
export function computeMeasurements(record: MigrationRecord): Measurements {
  const info = (record.finalInfo.source ?? {}) as Record<string, unknown>;
  const ram = (info['ram'] ?? {}) as Record<string, unknown>;
  const vfio = (info['vfio'] ?? {}) as Record<string, unknown>;
  const completed = record.outcome === 'completed';
  const breakdown = completed ? (record.outageBreakdown ?? outageBreakdown(record)) : null;
  const m: Record<string, number | undefined> = {
    downtimeMs: completed ? num(info['downtime']) : undefined,
    pauseWindowMs: completed ? pauseWindowMs(record) : undefined,
    guestOutageMs: record.probe?.guestOutageMs,
    outageBeforeStopMs: breakdown?.beforeStopMs,
    outageAfterResumeMs: breakdown?.afterResumeMs,
    probeLost: record.probe?.lost,
    totalTimeMs: num(info['total-time']),
    setupTimeMs: num(info['setup-time']),
    ramBytes: num(ram['transferred']),
    vfioBytes: num(vfio['transferred']),
    dirtySyncCount: num(ram['dirty-sync-count']),
  };
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as Measurements;
}

/** Units of every measurement, for results.json and reports. */
export const MEASUREMENT_UNITS: Readonly<Record<keyof Measurements, string>> = {
  downtimeMs: 'ms', pauseWindowMs: 'ms', guestOutageMs: 'ms', outageBeforeStopMs: 'ms', outageAfterResumeMs: 'ms', probeLost: 'packets', totalTimeMs: 'ms',
  setupTimeMs: 'ms', ramBytes: 'bytes', vfioBytes: 'bytes', dirtySyncCount: 'count',
};
