/**
 * Lines of a QEMU trace file written by the "log" trace backend (-trace enable=... -D file). With
 * -msg timestamp=on each line carries the host's wall-clock time, the clock of QMP event
 * timestamps, so trace lines can be placed inside a migration's phases. QEMU 10.0 writes
 * "<tid>@<seconds>.<microseconds>:event args"; QEMU 11.1 writes "<ISO-8601 UTC>Z event args"
 * (both seen on the nested lab).
 */
export interface TraceLine {
  readonly threadId: number | null;
  /** Host wall clock, ms; null for a line without the timestamp prefix. */
  readonly atMs: number | null;
  readonly event: string;
  /** Everything after the event name. */
  readonly args: string;
}

const TIMESTAMPED = /^(\d+)@(\d+)\.(\d{6}):([A-Za-z0-9_]+)\s?(.*)$/;
// GLib writes the microseconds only when they are not zero ("...T14:59:13Z"): about one record in
// a million, a few a run.
const ISO_STAMPED = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{6}))?Z ([a-z][a-z0-9_]*)\s(.*)$/;
const PLAIN = /^([a-z][a-z0-9_]*) (.*)$/;

/**
 * A trace file's text read line by line. QEMU also writes its own messages into the -D file
 * ("qemu-system-x86_64: warning: ..."), which are not trace records but not damage either; any
 * other non-empty line could not be read (a torn write, a truncated head, a format this parser
 * does not know), and a verdict that rests on the absence of a record must know there were some.
 */
export interface ParsedTraceLog {
  readonly lines: TraceLine[];
  /** QEMU's own messages in the file (program name and a colon), not trace records. */
  readonly messageLineCount: number;
  readonly unparsedLineCount: number;
  /** The first few unreadable lines, for the error that says what could not be read. */
  readonly unparsedSamples: readonly string[];
}

const MESSAGE = /^(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?Z )?[A-Za-z0-9_.-]+: /;
const MAX_UNPARSED_SAMPLES = 3;

export function parseTraceLogCounted(text: string): ParsedTraceLog {
  const lines: TraceLine[] = [];
  let messageLineCount = 0;
  let unparsedLineCount = 0;
  const unparsedSamples: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '') continue;
    const stamped = TIMESTAMPED.exec(line);
    if (stamped !== null) {
      lines.push({ threadId: Number(stamped[1]), atMs: Number(stamped[2]) * 1000 + Number(stamped[3]) / 1000, event: stamped[4]!, args: stamped[5] ?? '' });
      continue;
    }
    const iso = ISO_STAMPED.exec(line);
    if (iso !== null && iso[3]!.includes('_')) {
      lines.push({ threadId: null, atMs: Date.parse(`${iso[1]}Z`) + Number(iso[2] ?? '0') / 1000, event: iso[3]!, args: iso[4] ?? '' });
      continue;
    }
    const plain = PLAIN.exec(line);
    if (plain !== null && plain[1]!.includes('_')) {
      lines.push({ threadId: null, atMs: null, event: plain[1]!, args: plain[2] ?? '' });
      continue;
    }
    if (MESSAGE.test(line)) {
      messageLineCount++;
      continue;
    }
    unparsedLineCount++;
    if (unparsedSamples.length < MAX_UNPARSED_SAMPLES) unparsedSamples.push(line.slice(0, 200));
  }
  return { lines, messageLineCount, unparsedLineCount, unparsedSamples };
}

/** The trace records of a file's text; see parseTraceLogCounted for what it could not read. */
export function parseTraceLog(text: string): TraceLine[] {
  return parseTraceLogCounted(text).lines;
}

/** Trace lines whose event matches (a name, or a prefix ending in "*"), optionally inside [fromMs, toMs]. */
export function selectTraceLines(lines: readonly TraceLine[], pattern: string, window?: { readonly fromMs: number; readonly toMs: number }): TraceLine[] {
  const matches = pattern.endsWith('*') ? (e: string) => e.startsWith(pattern.slice(0, -1)) : (e: string) => e === pattern;
  return lines.filter((l) => matches(l.event) && (window === undefined || (l.atMs !== null && l.atMs >= window.fromMs && l.atMs <= window.toMs)));
}
