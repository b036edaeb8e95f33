import type { HostSpec, LabConfig } from '../config/types.js';
import { causeChain } from '../errors.js';
import type { CommandRunner } from '../runner.js';
import type { HostConnections } from './HostConnections.js';
import type { PreflightCheck } from './preflightHost.js';
import { UndoJournal } from './UndoJournal.js';
import { UndoJournalReplayError, type JournalReplay } from './UndoJournalError.js';

/** What replaying one host's leftover journal did. */
export interface HostJournalReplay {
  readonly host: string;
  readonly where: string;
  /** Null when the journal could not even be read (host unreachable, ...). */
  readonly replay: JournalReplay | null;
  /** Cause chain of the failure, or null when every entry was undone. */
  readonly error: readonly string[] | null;
  /** Nothing is left to undo on the host. */
  readonly isClean: boolean;
}

/** The run id written into entries by recovery itself (it appends none; for the record). */
const RECOVERY_RUN_ID = 'recovery';

/**
 * Replays whatever journal a host has: the changes of a run that died (SIGKILL, CI cancel) before
 * its teardown. Never throws: the outcome says what was undone and what failed.
 */
export async function replayHostJournal(host: Pick<HostSpec, 'name' | 'workDir'>, runner: CommandRunner, options: { readonly commandTimeoutMs?: number } = {}): Promise<HostJournalReplay> {
  const journal = new UndoJournal(runner, { workDir: host.workDir, runId: RECOVERY_RUN_ID, ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}) });
  try {
    const replay = await journal.replay();
    return { host: host.name, where: runner.where, replay, error: null, isClean: true };
  } catch (error) {
    const replay = error instanceof UndoJournalReplayError ? error.replay : null;
    return { host: host.name, where: runner.where, replay, error: causeChain(error), isClean: false };
  }
}

/**
 * Replays the leftover journals of the named hosts (default: all) in parallel. A run calls this
 * first, after taking its leases and before anything else (design.md §4); preflightLab does it
 * when asked to (`replayLeftoverJournals: true`).
 */
export async function replayLeftoverJournals(lab: LabConfig, connections: HostConnections, hostNames: readonly string[] = Object.keys(lab.hosts)): Promise<HostJournalReplay[]> {
  return Promise.all(
    hostNames.map(async (name): Promise<HostJournalReplay> => {
      const host = lab.hosts[name]!;
      try {
        const transport = await connections.open(host);
        return await replayHostJournal(host, transport, { commandTimeoutMs: lab.defaults.timeouts.commandMs });
      } catch (error) {
        return { host: name, where: connections.transportFor(host).where, replay: null, error: causeChain(error), isClean: false };
      }
    }),
  );
}

/** The outcome as a preflight check line. */
export function journalCheck(outcome: HostJournalReplay): PreflightCheck {
  const undone = outcome.replay?.undone ?? [];
  const runs = [...new Set(undone.map((e) => e.runId))].join(', ');
  if (outcome.isClean) {
    return { name: 'journal', isOk: true, detail: undone.length === 0 ? 'no journal left by an earlier run' : `undid ${undone.length} change(s) left by run(s) ${runs}` };
  }
  const firstLine = (outcome.error?.[0] ?? 'unknown error').split('\n')[0];
  return {
    name: 'journal', isOk: false,
    detail: `the journal left by an earlier run could not be fully replayed on ${outcome.host} (${firstLine}); run \`hil host restore --host ${outcome.host}\` for details`,
  };
}

/** One line per host for `hil host restore`. */
export function formatJournalReplay(outcome: HostJournalReplay): string {
  const lines: string[] = [];
  const undone = outcome.replay?.undone ?? [];
  if (outcome.isClean && undone.length === 0) return `${outcome.host} (${outcome.where}): nothing to undo`;
  lines.push(`${outcome.host} (${outcome.where}): undid ${undone.length} change(s)${outcome.isClean ? '' : ', FAILED on some'}`);
  for (const entry of undone) lines.push(`  undone   ${entry.description}  (run ${entry.runId}, ${entry.writtenAt})`);
  for (const failure of outcome.replay?.failed ?? []) lines.push(`  FAILED   ${failure.entry.description}: ${failure.error}\n           undo: ${failure.entry.undo}`);
  for (const line of outcome.replay?.unreadable ?? []) lines.push(`  UNREADABLE line ${line.lineNumber}: ${line.text.slice(0, 200)}`);
  if (outcome.replay === null && outcome.error !== null) lines.push(`  FAILED   ${outcome.error.join('\n    caused by: ')}`);
  return lines.join('\n');
}
