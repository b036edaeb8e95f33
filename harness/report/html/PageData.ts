/**
 * What the report page's script draws, embedded in the page as JSON (shared by the generator and
 * pageScript.ts, which runs in the browser). Times are ms since the migration started.
 */
export interface PageData {
  readonly timelines: readonly TimelineData[];
  readonly distributions: readonly DistributionData[];
  readonly trend: TrendChartData | null;
}

export interface TimelineData {
  /** id of the element the plot goes into. */
  readonly elementId: string;
  readonly endMs: number;
  readonly samples: readonly { readonly tMs: number; readonly status: string; readonly transferredMiB: number | null; readonly remainingMiB: number | null }[];
  readonly events: readonly { readonly tMs: number; readonly side: 'source' | 'destination'; readonly name: string; readonly detail: string }[];
  readonly hooks: readonly { readonly tMs: number; readonly name: string }[];
  readonly probe: { readonly gapStartMs: number | null; readonly gapEndMs: number | null; readonly replyMs: readonly number[] } | null;
  /** The probe's outage cut at source STOP and destination RESUME (harness/migration/outageBreakdown.ts). */
  readonly outage: OutageTimeline | null;
}

export interface OutageTimeline {
  /** Last reply before the outage, STOP, RESUME, first reply after it: ms since the migration started. */
  readonly startMs: number;
  readonly stopMs: number;
  readonly resumeMs: number;
  readonly endMs: number;
  readonly beforeStopMs: number;
  readonly pauseMs: number;
  readonly afterResumeMs: number;
  readonly outageMs: number;
  readonly resolutionMs: number;
  readonly flags: readonly { readonly code: string; readonly text: string }[];
}

/** Empirical distribution functions: one series per group (a cell, or run A / run B of a cell). */
export interface DistributionData {
  readonly elementId: string;
  readonly unit: string;
  readonly series: readonly { readonly label: string; readonly values: readonly number[] }[];
}

export interface TrendChartData {
  readonly elementId: string;
  readonly metric: string;
  readonly runIds: readonly string[];
  readonly cells: readonly { readonly key: string; readonly p50: readonly (number | null)[]; readonly p95: readonly (number | null)[] }[];
}
