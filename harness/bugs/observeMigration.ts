import { QemuStartError } from '../qemu/errors.js';
import { readTraceRecords, TRACE_NOT_READ } from '../qemu/TraceFileRead.js';
import type { PhaseHook } from '../migration/PhaseHook.js';
import type { LaunchOptions } from '../session/LaunchOptions.js';
import type { LabVm } from '../session/LabVm.js';
import type { BugObservation } from './BugReproduction.js';

export interface ObservedRun {
  readonly observation: BugObservation;
  /** The VMs that started (for further checks; their teardown is on the test's scope). */
  readonly source: LabVm | null;
  readonly destination: LabVm | null;
}

export interface ObserveOptions {
  /** Launch options of the source; the destination gets the same plus isIncoming (role/host set here). */
  readonly launch: Omit<LaunchOptions, 'host' | 'role' | 'isIncoming'>;
  /** Destination launch options where they differ from the source's (e.g. its own device). */
  readonly destinationLaunch?: Omit<LaunchOptions, 'host' | 'role' | 'isIncoming'>;
  /** False: only start the source and read its blocked-reasons (admission). */
  readonly isMigrating: boolean;
  /** Runs on the started source before the destination starts (e.g. guest set-up). */
  readonly beforeMigration?: (source: LabVm) => Promise<void>;
  readonly hooks?: (source: LabVm) => readonly PhaseHook[];
  readonly extraCapabilities?: Readonly<Record<string, boolean>>;
  readonly maxBandwidthBytesPerSec?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

function startErrorText(error: unknown): string | null {
  return error instanceof QemuStartError ? `${error.message}` : null;
}

/**
 * Runs one scenario the way every admission case and bug reproduction needs it: a source that may
 * refuse to start (a realize error is an outcome, not a lab failure), its blocked-reasons, then
 * optionally a migration; the source's log and trace are read at the end (the source is stopped
 * first, which flushes its trace file).
 */
export async function observeMigration(context: Mocha.Context, options: ObserveOptions): Promise<ObservedRun> {
  const lab = context.lab;
  const scope = context.scope;
  let source: LabVm;
  try {
    source = await lab.launchVm(scope, { host: lab.pair.source, role: 'src', ...options.launch });
  } catch (error) {
    const text = startErrorText(error);
    if (text === null) throw error;
    return { observation: { startError: text, blockedReasons: [], record: null, sourceLog: text, sourceTrace: [], sourceTraceFile: TRACE_NOT_READ }, source: null, destination: null };
  }
  const info = await source.qmp.execute<Record<string, unknown>>('query-migrate');
  const blockedReasons = Array.isArray(info['blocked-reasons']) ? (info['blocked-reasons'] as string[]) : [];
  let destination: LabVm | null = null;
  let record = null;
  if (options.isMigrating) {
    await options.beforeMigration?.(source);
    destination = await lab.launchVm(scope, { host: lab.pair.destination, role: 'dst', isIncoming: true, ...(options.destinationLaunch ?? options.launch) });
    record = await lab.migrate(scope, source, destination, {
      ...(options.hooks !== undefined ? { hooks: options.hooks(source) } : {}),
      ...(options.extraCapabilities !== undefined ? { extraCapabilities: options.extraCapabilities } : {}),
      ...(options.maxBandwidthBytesPerSec !== undefined ? { maxBandwidthBytesPerSec: options.maxBandwidthBytesPerSec } : {}),
      ...(options.labels !== undefined ? { labels: options.labels } : {}),
    });
  }
  source.closeConsole();
  const sourceLog = await source.process.readLog();
  await source.stop();
  const trace = readTraceRecords(await lab.readTraceFile(source));
  return { observation: { startError: null, blockedReasons: record?.blockedReasons ?? blockedReasons, record, sourceLog, sourceTrace: trace.lines, sourceTraceFile: trace.facts }, source, destination };
}
