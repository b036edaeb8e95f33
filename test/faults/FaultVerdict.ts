import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResults } from '../../harness/report/RunResults.js';
import type { HilExit } from './HilChild.js';

/**
 * What one injected fault came to, for a test to assert and the reliability summary to print.
 * Residue is judged against a snapshot taken before the fault (LabSnapshot), so it is what the
 * faulted run, and the run after it where one is needed, failed to clean.
 */
export interface FaultVerdict {
  readonly fault: string;
  /** The faulted command's exit: its code, or the signal that ended it. */
  readonly exit: string;
  /** Outcome of each test of the faulted run, from its results.json ([] when it wrote none). */
  readonly outcomes: readonly string[];
  /** The first line of what the harness said about the fault. */
  readonly messageHead: string;
  /** From the fault to the hosts being clean; null when they were not clean by the deadline. */
  readonly cleanupMs: number | null;
  /** What was left on the hosts at the end ([] when clean). */
  readonly residue: readonly string[];
  /** Facts a test checks beyond the verdict (what was left before the replay, sshd log lines, ...). */
  readonly evidence: Readonly<Record<string, unknown>>;
  /** Everything the runs printed, for assertion messages. */
  readonly output: string;
}

export function describeExit(exit: HilExit): string {
  return exit.code === null ? String(exit.signal) : String(exit.code);
}

/** A run's results.json, or null when it wrote none (a run refused before it started). */
export function readRunResults(reportsDir: string, runId: string | null): RunResults | null {
  if (runId === null) return null;
  const file = join(reportsDir, runId, 'results.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunResults) : null;
}

/**
 * The head of what the harness said about the fault: its own error line ("hil: ..."), what it
 * said about an interrupt, the first failed test's error, or a FAIL line of a preflight report.
 */
export function messageHead(results: RunResults | null, output: string): string {
  const lines = output.split('\n');
  const said = (pattern: RegExp): string | undefined => lines.find((line) => pattern.test(line))?.trim();
  const failed = results?.tests.find((t) => t.error !== null)?.error ?? null;
  const testError = failed === null ? undefined : `${failed.code === null ? '' : `[${failed.code}] `}${failed.message.split('\n')[0]}`;
  return said(/^hil\b/) ?? said(/^Second interrupt:/) ?? said(/^Run \S+ was interrupted/) ?? testError ?? said(/^\s+FAIL /) ?? '';
}
