import { InfrastructureError, type ErrorData } from '../errors.js';
import type { CommandResult } from '../runner.js';
import type { UndoJournalEntry, UnreadableJournalLine } from './UndoJournalEntry.js';

/** A journal operation failed: the lab's fault (ERROR), never a product verdict. */
export class UndoJournalError extends InfrastructureError {
  constructor(code: 'JOURNAL_WRITE_FAILED' | 'JOURNAL_READ_FAILED' | 'JOURNAL_CHANGE_FAILED', message: string, options: { cause?: unknown; data?: ErrorData } = {}) {
    super(code, message, options);
  }
}

export interface UndoFailure {
  readonly entry: UndoJournalEntry;
  /** What the undo printed and how it ended; absent when the command could not be run at all. */
  readonly result?: CommandResult;
  readonly error: string;
}

export interface JournalReplay {
  /** The host's journal file. */
  readonly file: string;
  readonly where: string;
  /** Undone and removed from the journal, in the order they were undone (newest first). */
  readonly undone: readonly UndoJournalEntry[];
  /** Still in the journal: their undo failed. */
  readonly failed: readonly UndoFailure[];
  /** Lines that are not entries: left in the journal for a person to look at. */
  readonly unreadable: readonly UnreadableJournalLine[];
}

/** Some undos failed (or lines could not be read); every other entry was still undone. */
export class UndoJournalReplayError extends InfrastructureError {
  constructor(readonly replay: JournalReplay) {
    const lines = [
      ...replay.failed.map((f) => `  - ${f.entry.description} (entry ${f.entry.id}, run ${f.entry.runId}): ${f.error}\n      undo: ${f.entry.undo}`),
      ...replay.unreadable.map((u) => `  - line ${u.lineNumber} is not a journal entry: ${JSON.stringify(u.text.slice(0, 200))}`),
    ];
    super(
      'JOURNAL_REPLAY_FAILED',
      `Replaying the undo journal ${replay.file} on ${replay.where} left ${replay.failed.length + replay.unreadable.length} problem(s) ` +
        `(${replay.undone.length} change(s) undone):\n${lines.join('\n')}\n` +
        'The failed entries stay in the journal: fix the cause and run `hil host restore`, or undo them by hand and delete their lines.',
      {
        cause: replay.failed[0]?.error,
        data: { file: replay.file, where: replay.where, undone: replay.undone.map((e) => e.id), failed: replay.failed.map((f) => f.entry.id), unreadableLines: replay.unreadable.map((u) => u.lineNumber) },
      },
    );
  }
}
