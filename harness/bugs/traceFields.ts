import type { TraceLine } from '../qemu/parseTraceLog.js';

/** A hex field of a trace line ("gpa=0x1000" → 4096n), or null when the line has none. */
export function hexField(line: TraceLine, name: string): bigint | null {
  const match = new RegExp(`\\b${name}=(0x[0-9a-f]+)`, 'i').exec(line.args);
  return match === null ? null : BigInt(match[1]!);
}
