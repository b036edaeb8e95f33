/**
 * One line of a host's undo journal: how to undo one change the harness made on that host.
 *
 *   hil-undo-1 <TAB> id <TAB> runId <TAB> writtenAt <TAB> description <TAB> undo
 *
 * One line per entry so one `printf >>` appends it whole. The undo stays readable in the file (a
 * lab engineer can run it by hand); only `%`, TAB, CR and LF are percent-escaped, because they
 * would break the line format.
 */
export interface UndoJournalEntry {
  /** Unique within the journal; removal keys on it. Letters, digits, `.`, `_`, `-` only. */
  readonly id: string;
  /** The run that made the change. */
  readonly runId: string;
  /** When the undo was written, controller clock, ISO 8601. */
  readonly writtenAt: string;
  /** What the change was, for reports: "create 4 VFs on 0000:3b:00.0". */
  readonly description: string;
  /** One shell command line that undoes the change; it must also succeed when the change never happened. */
  readonly undo: string;
}

/** A line that is not an entry (edited by hand, or a host crashed mid-append): kept, reported. */
export interface UnreadableJournalLine {
  readonly lineNumber: number;
  readonly text: string;
}

export const JOURNAL_FORMAT_TAG = 'hil-undo-1';
const FIELD_COUNT = 6;
const ID_PATTERN = /^[A-Za-z0-9._-]+$/;

export function isValidEntryId(id: string): boolean {
  return ID_PATTERN.test(id);
}

function escapeField(value: string): string {
  return value.replace(/[%\t\r\n]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

function unescapeField(value: string): string {
  return value.replace(/%(25|09|0D|0A)/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** The entry as one journal line, without the trailing newline. */
export function formatJournalLine(entry: UndoJournalEntry): string {
  if (!isValidEntryId(entry.id)) throw new Error(`journal entry id ${JSON.stringify(entry.id)} must match ${ID_PATTERN}`);
  return [JOURNAL_FORMAT_TAG, entry.id, entry.runId, entry.writtenAt, entry.description, entry.undo].map(escapeField).join('\t');
}

/** Entries in the order they were appended, and every line that is not one. */
export function parseJournalText(text: string): { entries: UndoJournalEntry[]; unreadable: UnreadableJournalLine[] } {
  const entries: UndoJournalEntry[] = [];
  const unreadable: UnreadableJournalLine[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, index) => {
    const fields = line.split('\t');
    const [tag, id, runId, writtenAt, description, undo] = fields.map(unescapeField);
    const isEntry = fields.length === FIELD_COUNT && tag === JOURNAL_FORMAT_TAG && id !== undefined && isValidEntryId(id) && undo !== undefined && undo.trim() !== '';
    if (isEntry) entries.push({ id, runId: runId!, writtenAt: writtenAt!, description: description!, undo });
    else if (line.trim() !== '') unreadable.push({ lineNumber: index + 1, text: line });
  });
  return { entries, unreadable };
}
