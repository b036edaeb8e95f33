import { sh } from '../shell.js';
import { parseTraceLogCounted, type TraceLine } from './parseTraceLog.js';

/** The most of a trace file a read brings back: the tail, since the migration is at the end. */
export const TRACE_READ_MAX_BYTES = 16 * 1024 * 1024;

/**
 * One read of a VM's trace file. "The file is not there" (QEMU never opened it: wrong -D, no
 * trace backend), "the file is empty" (no enabled event fired, or nothing was flushed) and "the
 * file has lines" are three different facts, and only the last can show that a record is absent.
 */
export type TraceFileRead =
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'read'; readonly path: string; readonly text: string; readonly sizeBytes: number; readonly isTruncated: boolean };

/** What a verdict needs to know about the source trace besides its records. */
export interface TraceFileFacts {
  /** not-read: no QEMU ran (it refused to start), so there is no file to ask for. */
  readonly state: 'not-read' | 'missing' | 'empty' | 'has-lines';
  readonly path: string | null;
  readonly sizeBytes: number;
  /** Only the last TRACE_READ_MAX_BYTES were read: records before them are unknown. */
  readonly isTruncated: boolean;
  readonly recordCount: number;
  readonly messageLineCount: number;
  readonly unparsedLineCount: number;
  readonly unparsedSamples: readonly string[];
}

export const TRACE_NOT_READ: TraceFileFacts = { state: 'not-read', path: null, sizeBytes: 0, isTruncated: false, recordCount: 0, messageLineCount: 0, unparsedLineCount: 0, unparsedSamples: [] };

/** The command whose output parseTraceReadOutput reads: the file's size in bytes (or "missing"), then its tail. */
export function traceReadCommand(path: string): string {
  return sh`if [ -f ${path} ]; then stat -c %s ${path}; tail -c ${TRACE_READ_MAX_BYTES} ${path}; else echo missing; fi`;
}

/** A read's shell output → the read: its first line is the file's size in bytes, or "missing". */
export function parseTraceReadOutput(path: string, stdout: string): TraceFileRead {
  const newline = stdout.indexOf('\n');
  const head = (newline < 0 ? stdout : stdout.slice(0, newline)).trim();
  if (head === 'missing') return { kind: 'missing', path };
  const sizeBytes = Number(head);
  if (!/^\d+$/.test(head)) return { kind: 'read', path, text: stdout, sizeBytes: stdout.length, isTruncated: false };
  let text = newline < 0 ? '' : stdout.slice(newline + 1);
  const isTruncated = sizeBytes > TRACE_READ_MAX_BYTES;
  // A tail starts mid-line; that torn first line is a cut, not a damaged record.
  if (isTruncated) text = text.slice(text.indexOf('\n') + 1);
  return { kind: 'read', path, text, sizeBytes, isTruncated };
}

/** The records of a read and the facts about the file they came from. */
export function readTraceRecords(read: TraceFileRead): { readonly lines: TraceLine[]; readonly facts: TraceFileFacts } {
  if (read.kind === 'missing') return { lines: [], facts: { ...TRACE_NOT_READ, state: 'missing', path: read.path } };
  const parsed = parseTraceLogCounted(read.text);
  const isEmpty = parsed.lines.length === 0 && parsed.messageLineCount === 0 && parsed.unparsedLineCount === 0;
  return {
    lines: parsed.lines,
    facts: {
      state: isEmpty ? 'empty' : 'has-lines',
      path: read.path,
      sizeBytes: read.sizeBytes,
      isTruncated: read.isTruncated,
      recordCount: parsed.lines.length,
      messageLineCount: parsed.messageLineCount,
      unparsedLineCount: parsed.unparsedLineCount,
      unparsedSamples: parsed.unparsedSamples,
    },
  };
}
