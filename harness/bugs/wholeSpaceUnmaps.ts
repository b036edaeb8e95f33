import type { TraceLine } from '../qemu/parseTraceLog.js';

/** A whole-space unmap of the emulated VT-d, from its first UNMAP notification to its record. */
export interface WholeSpaceUnmap {
  /** The vtd_as_unmap_whole record ("Device 00:01.0 start 0xfef00000 size 0xffff01100000"). */
  readonly record: TraceLine;
  /** When the unmap began: its first vfio_iommu_map_notify UNMAP, or the record when VFIO saw none. */
  readonly begunAtMs: number | null;
}

const WHOLE = /\bstart (0x[0-9a-f]+) size (0x[0-9a-f]+)/i;
const NOTIFY_START = /\bUNMAP @ (0x[0-9a-f]+) - /i;

/**
 * The whole-space unmaps of a source trace, each with the time it began. QEMU writes
 * vtd_as_unmap_whole after its loop of UNMAP notifications (hw/i386/intel_iommu.c,
 * vtd_address_space_unmap), and on the legacy backend that loop can take hundreds of ms on a
 * nested host: the migration fails on one of its chunks and the record comes after the failure.
 * Whether an unmap happened during pre-copy is a question about when it began: its first
 * notification: the last one at the record's start address before the record (a mapping the
 * guest unmapped on its own at that address earlier is not it).
 */
export function wholeSpaceUnmaps(trace: readonly TraceLine[]): WholeSpaceUnmap[] {
  const unmaps: WholeSpaceUnmap[] = [];
  let lastAtByAddress = new Map<bigint, number | null>();
  for (const line of trace) {
    if (line.event === 'vfio_iommu_map_notify') {
      const start = NOTIFY_START.exec(line.args)?.[1];
      if (start !== undefined) lastAtByAddress.set(BigInt(start), line.atMs);
    } else if (line.event === 'vtd_as_unmap_whole') {
      const start = WHOLE.exec(line.args)?.[1];
      const begunAtMs = start === undefined ? undefined : lastAtByAddress.get(BigInt(start));
      // A notification stamped after the record cannot be where the unmap began.
      const isBefore = begunAtMs !== undefined && begunAtMs !== null && line.atMs !== null && begunAtMs <= line.atMs;
      unmaps.push({ record: line, begunAtMs: isBefore ? begunAtMs : line.atMs });
      lastAtByAddress = new Map();
    }
  }
  return unmaps;
}

/** The whole-space unmaps that began inside `window`. */
export function wholeSpaceUnmapsBegunIn(trace: readonly TraceLine[], window: { readonly fromMs: number; readonly toMs: number }): WholeSpaceUnmap[] {
  return wholeSpaceUnmaps(trace).filter((u) => u.begunAtMs !== null && u.begunAtMs >= window.fromMs && u.begunAtMs <= window.toMs);
}
