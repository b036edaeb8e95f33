import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HISTORY_FORMAT_VERSION, type HistoryEntry } from './HistoryEntry.js';

export interface HistoryRead {
  /** One entry per run id (the last line written for it wins), oldest run first. */
  readonly entries: readonly HistoryEntry[];
  /** Lines that could not be read, with their line number: shown, never silently dropped. */
  readonly problems: readonly string[];
}

/**
 * The run history: a JSON-lines file, reports/history.jsonl. Appending a line is one write(2)
 * with O_APPEND, so parallel CI jobs on one controller do not overwrite each other and a killed
 * run leaves at most one torn last line; the file needs no server and no native module, greps
 * and diffs as text, and a nightly's history (a few KiB a run) stays small for years. A run is
 * written again when its report is regenerated; readers keep its latest line.
 */
export class HistoryStore {
  constructor(readonly file: string) {}

  append(entry: HistoryEntry): void {
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o644 });
  }

  read(): HistoryRead {
    if (!existsSync(this.file)) return { entries: [], problems: [] };
    const byRun = new Map<string, HistoryEntry>();
    const problems: string[] = [];
    readFileSync(this.file, 'utf8').split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      let entry: HistoryEntry;
      try {
        entry = JSON.parse(line) as HistoryEntry;
      } catch (error) {
        problems.push(`${this.file}:${index + 1}: not JSON (${(error as Error).message}); a run killed while writing leaves such a line`);
        return;
      }
      if (entry.formatVersion !== HISTORY_FORMAT_VERSION || typeof entry.runId !== 'string' || !Array.isArray(entry.cells)) {
        problems.push(`${this.file}:${index + 1}: not a history entry of format ${HISTORY_FORMAT_VERSION}`);
        return;
      }
      byRun.delete(entry.runId);
      byRun.set(entry.runId, entry);
    });
    const entries = [...byRun.values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.runId.localeCompare(b.runId));
    return { entries, problems };
  }
}

/** Runs that stand on their own: shard runs that a merged run includes are left out. */
export function wholeRuns(entries: readonly HistoryEntry[]): HistoryEntry[] {
  const merged = new Set(entries.flatMap((e) => e.mergedFrom));
  return entries.filter((e) => !merged.has(e.runId));
}
