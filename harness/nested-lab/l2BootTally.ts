import { HarnessError } from '../errors.js';

/**
 * How one L2 boot ended: its shell answered; the guest reset itself first (QMP RESET: a triple
 * fault, or a panic with panic=-1); its shell never answered (hung); the controller's console
 * attach (ssh + socat to the serial socket) ended before the shell answered, whatever the guest
 * was doing; the L1 stopped answering; or anything else (a launch or provisioning error), kept
 * apart so it is never counted as a reset.
 */
export type L2BootOutcome = 'shell' | 'reset' | 'hang' | 'console-lost' | 'l1-lost' | 'error';

export interface L2BootRecord {
  /** Which device set the L2 had (none, mtty, vf, viommu). */
  readonly config: string;
  readonly host: string;
  readonly outcome: L2BootOutcome;
  /** Launch to shell; only for 'shell'. */
  readonly readyMs?: number;
  /** The L1's /proc/uptime when a boot failed (undefined when the L1 did not answer). */
  readonly l1UptimeSeconds?: number;
  readonly detail?: string;
}

export interface L2BootSummary {
  readonly config: string;
  readonly boots: number;
  readonly shells: number;
  readonly resets: number;
  readonly hangs: number;
  readonly consoleLost: number;
  readonly l1Lost: number;
  readonly errors: number;
  readonly readyP50Ms?: number;
  readonly readyP95Ms?: number;
  /** The L1 uptime of every failed boot, in the order they happened. */
  readonly failureUptimesSeconds: readonly (number | undefined)[];
}

/** The error codes LabVm.waitForShell gives a guest that reset or hung before its shell. */
export function bootOutcomeOf(error: unknown): Exclude<L2BootOutcome, 'shell' | 'l1-lost'> {
  if (error instanceof HarnessError && error.code === 'GUEST_RESET_BEFORE_SHELL') return 'reset';
  if (error instanceof HarnessError && error.code === 'GUEST_NOT_READY') return 'hang';
  if (error instanceof HarnessError && error.code === 'CONSOLE_CLOSED') return 'console-lost';
  return 'error';
}

/** Nearest-rank percentile (p in 0..100) of the values; undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** One summary per configuration, in the order the configurations first appear. */
export function summariseBoots(records: readonly L2BootRecord[]): L2BootSummary[] {
  const configs = [...new Set(records.map((r) => r.config))];
  return configs.map((config) => {
    const mine = records.filter((r) => r.config === config);
    const count = (outcome: L2BootOutcome): number => mine.filter((r) => r.outcome === outcome).length;
    const ready = mine.flatMap((r) => (r.outcome === 'shell' && r.readyMs !== undefined ? [r.readyMs] : []));
    const p50 = percentile(ready, 50);
    const p95 = percentile(ready, 95);
    return {
      config,
      boots: mine.length,
      shells: count('shell'),
      resets: count('reset'),
      hangs: count('hang'),
      consoleLost: count('console-lost'),
      l1Lost: count('l1-lost'),
      errors: count('error'),
      ...(p50 === undefined ? {} : { readyP50Ms: p50 }),
      ...(p95 === undefined ? {} : { readyP95Ms: p95 }),
      failureUptimesSeconds: mine.filter((r) => r.outcome !== 'shell').map((r) => r.l1UptimeSeconds),
    };
  });
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '-' : (ms / 1000).toFixed(1);
}

/** The bench's table: one line per configuration and a total line. */
export function formatBootTable(summaries: readonly L2BootSummary[]): string {
  const header = ['config', 'boots', 'shell', 'resets', 'hangs', 'console', 'l1-lost', 'errors', 'p50 s', 'p95 s', 'L1 uptime at failures (s)'];
  const rows = summaries.map((s) => [
    s.config, String(s.boots), String(s.shells), String(s.resets), String(s.hangs), String(s.consoleLost), String(s.l1Lost), String(s.errors),
    seconds(s.readyP50Ms), seconds(s.readyP95Ms),
    s.failureUptimesSeconds.map((u) => (u === undefined ? '?' : Math.round(u).toString())).join(',') || '-',
  ]);
  const total = (key: 'boots' | 'shells' | 'resets' | 'hangs' | 'consoleLost' | 'l1Lost' | 'errors'): string => String(summaries.reduce((sum, s) => sum + s[key], 0));
  rows.push(['all', total('boots'), total('shells'), total('resets'), total('hangs'), total('consoleLost'), total('l1Lost'), total('errors'), '', '', '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export interface L1HealthFindings {
  readonly panics: number;
  readonly softLockups: number;
  readonly hardLockups: number;
  /** WARNING: splats, BUG: lines other than lockups, general protection faults, stack corruption. */
  readonly warnings: number;
  /** The matching lines, at most 20, for the report. */
  readonly lines: readonly string[];
}

const PANIC = /Kernel panic|corrupted stack end/;
const SOFT_LOCKUP = /soft lockup/;
const HARD_LOCKUP = /hard LOCKUP|Watchdog detected hard LOCKUP/i;
const WARNING = /WARNING:|BUG:|general protection fault|Oops|RIP: |rcu_preempt detected stalls|rcu: INFO:/;

/** What an L1's kernel log (dmesg, or its serial console) says about its health. */
export function l1HealthFindings(kernelLog: string): L1HealthFindings {
  const lines = kernelLog.split('\n');
  const matches = (pattern: RegExp): string[] => lines.filter((l) => pattern.test(l));
  const softLockups = matches(SOFT_LOCKUP);
  const hardLockups = matches(HARD_LOCKUP);
  const lockupLines = new Set([...softLockups, ...hardLockups]);
  const warnings = matches(WARNING).filter((l) => !lockupLines.has(l));
  const panics = matches(PANIC);
  return {
    panics: panics.length,
    softLockups: softLockups.length,
    hardLockups: hardLockups.length,
    warnings: warnings.length,
    lines: [...panics, ...softLockups, ...hardLockups, ...warnings].slice(0, 20).map((l) => l.trim().slice(0, 200)),
  };
}
