import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { errorMessage } from '../errors.js';
import type { CommandResult, CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { formatJournalLine, parseJournalText, type UndoJournalEntry, type UnreadableJournalLine } from './UndoJournalEntry.js';
import { UndoJournalError, UndoJournalReplayError, type JournalReplay, type UndoFailure } from './UndoJournalError.js';

export interface UndoJournalOptions {
  /** The host's workDir (hosts.<name>.workDir); the journal lives in `<workDir>/journal/`. */
  readonly workDir: string;
  /** The run whose changes this object journals; written into every entry it appends. */
  readonly runId: string;
  /** Per journal command and per undo. Default 60 s. */
  readonly commandTimeoutMs?: number;
}

export interface JournalChange {
  readonly entry: UndoJournalEntry;
  /** How the change command ended (exit 0). */
  readonly result: CommandResult;
}

/**
 * The undo journal of one host, kept ON the host (design.md §4) so it outlives the controller:
 * before the harness changes the host it appends the undo; teardown replays the journal newest
 * first; the next preflight replays what a dead run left. The journal is a 0700 folder holding
 * one 0600 file of lines (UndoJournalEntry); the folder exists only while there are entries, so
 * `[ -s <workDir>/journal ]` says whether anything is left to undo.
 *
 * One controller works on a host at a time (the host lease); within it, journal file updates are
 * serialized so a removal never loses a concurrent append.
 */
export class UndoJournal {
  readonly dir: string;
  readonly file: string;
  private sequence = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly runner: CommandRunner, private readonly options: UndoJournalOptions) {
    this.dir = posix.join(options.workDir, 'journal');
    this.file = posix.join(this.dir, 'entries');
  }

  get where(): string {
    return this.runner.where;
  }

  private get timeoutMs(): number {
    return this.options.commandTimeoutMs ?? 60_000;
  }

  /** Writes the undo of a change about to be made; make the change only after this returns. */
  append(description: string, undo: string): Promise<UndoJournalEntry> {
    const entry: UndoJournalEntry = { id: this.newId(), runId: this.options.runId, writtenAt: new Date().toISOString(), description, undo };
    const line = formatJournalLine(entry);
    // A line a crashed host left without its newline must not swallow the next entry.
    const command = sh`umask 077 && mkdir -p -m 0700 -- ${this.dir} && f=${this.file} && ` +
      sh`if [ -s "$f" ] && [ -n "$(tail -c 1 -- "$f")" ]; then printf '\\n' >> "$f"; fi && printf '%s\\n' ${line} >> "$f"`;
    return this.exclusive(async () => {
      await this.runChecked(command, 'JOURNAL_WRITE_FAILED', `Could not write the undo of "${description}" to ${this.file} on ${this.where}; the change was not made`);
      return entry;
    });
  }

  /**
   * Journal-then-do: appends `undoCommand`, then runs `doCommand`. If the change fails (perhaps
   * halfway) it is undone at once; the error says how the change and, if it failed too, the undo
   * ended (a failed undo stays in the journal for the next replay).
   */
  async change(description: string, doCommand: string, undoCommand: string): Promise<JournalChange> {
    const entry = await this.append(description, undoCommand);
    let result: CommandResult;
    try {
      result = await this.runner.run(doCommand, { timeoutMs: this.timeoutMs });
    } catch (error) {
      // Whether the change happened is unknown: its undo stays journaled for the replay.
      throw new UndoJournalError('JOURNAL_CHANGE_FAILED', `Could not run "${description}" on ${this.where}: ${errorMessage(error)}. Its undo stays in ${this.file}.`, {
        cause: error, data: { where: this.where, command: doCommand, entry: entry.id },
      });
    }
    if (result.exitCode === 0) return { entry, result };
    const undoFailure = await this.undoAndRemove(entry);
    const ended = result.signal !== null ? `was killed by SIG${result.signal}` : `exited ${result.exitCode}`;
    const aftermath = undoFailure === null ? 'It was undone right away.' : `Its undo failed too (${undoFailure.error}); it stays in ${this.file} for the next replay.`;
    throw new UndoJournalError('JOURNAL_CHANGE_FAILED', `"${description}" failed on ${this.where} (${ended}): ${result.stderr.trim().slice(-1000) || '(no output)'}\n  command: ${doCommand}\n${aftermath}`, {
      data: { where: this.where, command: doCommand, exitCode: result.exitCode, signal: result.signal, stderr: result.stderr, entry: entry.id, isUndone: undoFailure === null },
    });
  }

  /** The journal as it is on the host now: entries oldest first, and lines that are not entries. */
  async read(): Promise<{ entries: UndoJournalEntry[]; unreadable: UnreadableJournalLine[] }> {
    const result = await this.exclusive(() => this.runChecked(sh`f=${this.file}; if [ -e "$f" ]; then cat -- "$f"; fi`, 'JOURNAL_READ_FAILED', `Could not read the undo journal ${this.file} on ${this.where}`));
    return parseJournalText(result.stdout);
  }

  /** Forgets an entry whose change was undone by other means (e.g. a VM stopped cleanly). */
  remove(id: string): Promise<void> {
    // awk keeps every other line as it is, unreadable ones included; the rename is atomic. The
    // last entry takes the folder with it, and any temp file an interrupted removal left.
    const command = sh`umask 077 && f=${this.file} && t=${this.file}.$$ && if [ -e "$f" ]; then ` +
      sh`awk -F '\\t' -v id=${id} '$2 != id' "$f" > "$t" && if [ -s "$t" ]; then mv -f -- "$t" "$f"; else rm -f -- "$f" "$f".* && rmdir -- ${this.dir}; fi; fi`;
    return this.exclusive(async () => {
      await this.runChecked(command, 'JOURNAL_WRITE_FAILED', `Could not remove entry ${id} from the undo journal ${this.file} on ${this.where}`);
    });
  }

  /** Undoes one entry now (e.g. at the end of the test that made the change) and removes it. */
  async undo(entry: UndoJournalEntry): Promise<void> {
    const failure = await this.undoAndRemove(entry);
    if (failure !== null) {
      throw new UndoJournalReplayError({ file: this.file, where: this.where, undone: [], failed: [failure], unreadable: [] });
    }
  }

  /**
   * Undoes every entry (or only `runId`'s), newest first, removing each only after its undo
   * succeeded; keeps going after a failure and reports every failure at the end
   * (UndoJournalReplayError, whose `replay` says what was undone and what was not).
   */
  async replay(options: { readonly runId?: string } = {}): Promise<JournalReplay> {
    const { entries, unreadable } = await this.read();
    const selected = entries.filter((e) => options.runId === undefined || e.runId === options.runId).reverse();
    const undone: UndoJournalEntry[] = [];
    const failed: UndoFailure[] = [];
    for (const entry of selected) {
      const failure = await this.undoAndRemove(entry);
      if (failure === null) undone.push(entry);
      else failed.push(failure);
    }
    const replay: JournalReplay = { file: this.file, where: this.where, undone, failed, unreadable };
    if (failed.length > 0 || unreadable.length > 0) throw new UndoJournalReplayError(replay);
    return replay;
  }

  /** Runs an entry's undo; on success removes it. Returns the failure, or null. */
  private async undoAndRemove(entry: UndoJournalEntry): Promise<UndoFailure | null> {
    let result: CommandResult;
    try {
      result = await this.runner.run(entry.undo, { timeoutMs: this.timeoutMs });
    } catch (error) {
      return { entry, error: `could not run the undo: ${errorMessage(error)}` };
    }
    if (result.exitCode !== 0) {
      const ended = result.signal !== null ? `killed by SIG${result.signal}` : `exit ${result.exitCode}`;
      return { entry, result, error: `undo failed (${ended}): ${result.stderr.trim().slice(-1000) || '(no output)'}` };
    }
    try {
      await this.remove(entry.id);
    } catch (error) {
      // Undos are safe to repeat, so a leftover entry only costs a second run of it.
      return { entry, result, error: `undone, but not removed from the journal: ${errorMessage(error)}` };
    }
    return null;
  }

  private async runChecked(command: string, code: 'JOURNAL_WRITE_FAILED' | 'JOURNAL_READ_FAILED', what: string): Promise<CommandResult> {
    let result: CommandResult;
    try {
      result = await this.runner.run(command, { timeoutMs: this.timeoutMs });
    } catch (error) {
      throw new UndoJournalError(code, `${what}: ${errorMessage(error)}`, { cause: error, data: { where: this.where, file: this.file } });
    }
    if (result.exitCode !== 0) {
      throw new UndoJournalError(code, `${what} (exit ${result.exitCode ?? `SIG${result.signal}`}): ${result.stderr.trim().slice(-1000) || '(no output)'}`, {
        data: { where: this.where, file: this.file, command, exitCode: result.exitCode, stderr: result.stderr },
      });
    }
    return result;
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.tail.then(operation, operation);
    // The chain must survive a failed operation; the caller still sees the failure through `next`.
    this.tail = next.then(() => undefined, () => undefined);
    return next;
  }

  private newId(): string {
    this.sequence += 1;
    return `${Date.now().toString(36)}-${process.pid.toString(36)}-${this.sequence}-${randomBytes(3).toString('hex')}`;
  }
}
