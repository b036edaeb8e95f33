export type Side = 'source' | 'destination';

/** The probe's view of a migration's window (measure/ProbeStream measures it). */
export interface OutageReport {
  /** Longest time between two consecutive replies inside the window (ms): what a client sees. */
  readonly guestOutageMs: number;
  /** When that gap started and ended (controller clock). */
  readonly gapStartMs: number | null;
  readonly gapEndMs: number | null;
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  readonly rateHz: number;
  /** When each reply in the window arrived (controller clock): the report's timeline draws them. */
  readonly replyTimesMs?: readonly number[];
}

/** A QMP event as the migration saw it, with QEMU's host timestamp and our receive time. */
export interface EventRecord {
  readonly side: Side;
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** QEMU's timestamp on its host's wall clock, ms. */
  readonly hostTimestampMs: number;
  /** When the controller received it, controller clock, ms. */
  readonly receivedAtMs: number;
}

/** One query-migrate answer from the source, reduced to what plots and assertions use. */
export interface MigrationSample {
  readonly atMs: number;
  readonly status: string;
  readonly totalTimeMs?: number;
  readonly expectedDowntimeMs?: number;
  readonly ramTransferredBytes?: number;
  readonly ramRemainingBytes?: number;
  readonly ramTotalBytes?: number;
  readonly dirtySyncCount?: number;
  readonly mbps?: number;
  /** ram.dirty-pages-rate × page-size: QEMU's measure of the guest's dirty rate. */
  readonly dirtyBytesPerSec?: number;
  readonly vfioTransferredBytes?: number;
}

export interface HookRecord {
  readonly name: string;
  readonly phase: string;
  readonly firedAtMs: number;
  readonly endedAtMs: number | null;
  readonly error: string | null;
}

export type OutageFlagCode = 'OUTAGE_BEFORE_STOP' | 'OUTAGE_PARTS_DO_NOT_ADD_UP' | 'OUTAGE_CLOCKS_DISAGREE';

export interface OutageFlag {
  readonly code: OutageFlagCode;
  readonly text: string;
}

/**
 * The guest outage seen by the probe, cut at the source's STOP and the destination's RESUME, all on
 * the controller's clock. The parts add up to the outage when the probe's longest gap spans the
 * pause: `beforeStopMs + pauseMs + afterResumeMs = outageMs`.
 */
export interface OutageBreakdown {
  /** One probe period: no part is known more finely than this. */
  readonly resolutionMs: number;
  /** The probe's longest gap (controller clock, ms): last reply before it, first reply after it. */
  readonly outageStartMs: number;
  readonly outageEndMs: number;
  readonly outageMs: number;
  /** Source STOP and destination RESUME, each moved by its host's measured clock offset. */
  readonly stopMs: number;
  readonly resumeMs: number;
  /** From the last reply before the outage to STOP (0 when the outage began after STOP). */
  readonly beforeStopMs: number;
  /** STOP → RESUME: the pause window. */
  readonly pauseMs: number;
  /** From RESUME to the first reply: the network finding the guest again (self-announce, MAC learning). */
  readonly afterResumeMs: number;
  readonly flags: readonly OutageFlag[];
}

export type MigrationOutcome = 'completed' | 'failed' | 'cancelled' | 'blocked' | 'timeout';

/** Every figure of design.md §6 that a migration produced; absent when its source gave nothing. */
export interface Measurements {
  readonly downtimeMs?: number;
  readonly pauseWindowMs?: number;
  readonly guestOutageMs?: number;
  /** Parts of the guest outage (outageBreakdown.ts): from the last reply to STOP, from RESUME to the first reply. */
  readonly outageBeforeStopMs?: number;
  readonly outageAfterResumeMs?: number;
  readonly probeLost?: number;
  readonly totalTimeMs?: number;
  readonly setupTimeMs?: number;
  readonly ramBytes?: number;
  readonly vfioBytes?: number;
  readonly dirtySyncCount?: number;
}

export interface MigrationRecord {
  readonly id: string;
  readonly source: { readonly host: string; readonly vm: string };
  readonly destination: { readonly host: string; readonly vm: string };
  readonly uri: string;
  readonly startedAtMs: number;
  endedAtMs: number;
  readonly capabilities: Readonly<Record<string, boolean>>;
  readonly parameters: Readonly<Record<string, number>>;
  /** query-migrate blocked-reasons read just before `migrate`. */
  blockedReasons: readonly string[];
  outcome: MigrationOutcome | null;
  /** Why it did not complete: error-desc, the QMP error of `migrate`, or the deadline. */
  reason: string | null;
  /** The last query-migrate answer of each side, as QEMU gave it. */
  finalInfo: { source: unknown; destination: unknown };
  readonly samples: MigrationSample[];
  readonly events: EventRecord[];
  readonly hooks: HookRecord[];
  /** On failure, whether the source was resumed (`cont`) and runs again. */
  isSourceResumed: boolean | null;
  /** host clock − controller clock, ms, per side (from preflight). */
  readonly clockOffsetMs: { readonly source: number; readonly destination: number };
  probe: OutageReport | null;
  /** The probe's outage cut at STOP and RESUME, with its flags; absent in records written before it existed. */
  outageBreakdown?: OutageBreakdown | null;
  measurements: Measurements;
}
