/** What one migration of the sweep showed, at one downtime-limit. */
export interface SweepPoint {
  readonly limitMs: number;
  /** query-migrate-parameters downtime-limit on the source after the migration. */
  readonly readBackLimitMs: number | null;
  /** query-migrate expected-downtime in the first active sample (QEMU starts it at the limit). */
  readonly firstExpectedDowntimeMs: number | null;
  /** ram.downtime-bytes: RAM sent with the guest stopped. */
  readonly stopCopyBytes: number | null;
  /** QEMU's dirty-pages-rate × page-size in the last active sample: how fast the guest dirtied its RAM. */
  readonly dirtyBytesPerSec: number | null;
  readonly downtimeMs: number | null;
  readonly dirtySyncCount: number | null;
  readonly totalTimeMs: number | null;
}

export interface SweepSetup {
  readonly bandwidthBytesPerSec: number;
  /** Bytes allowed above 1.5 × bandwidth × limit whatever the limit (see STOP_COPY_SLACK_BYTES). */
  readonly slackBytes: number;
  /** The most RAM the guest keeps dirty (its dirtier's working set). */
  readonly workingSetBytes: number;
}

/**
 * Stop-copy may exceed bandwidth × limit by a factor because QEMU sizes the switchover with the
 * bandwidth it measured, which overshoots max-bandwidth a little, and each page carries a header.
 */
export const STOP_COPY_FACTOR = 1.5;

/**
 * How far rate × limit must clear the tighter limit's most before a step counts as told apart:
 * QEMU's dirty rate is that of its last syncs, not exactly of the final pass (one virtual-lab run
 * had 2.64 MB of stop-copy at 150 ms where rate × limit said 2.96 MB).
 */
export const TELL_APART_MARGIN = 1.25;

export interface SweepVerdict {
  /** What the product did wrong: any of them is a FAIL. */
  readonly failures: readonly string[];
  /** Set when even the tightest and the loosest limit could not be told apart: no verdict either way. */
  readonly inconclusive: string | null;
  /** Per pair of limits compared: whether its stop-copy bytes had to grow, and the figures. */
  readonly steps: readonly string[];
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;

/**
 * Judges a downtime-limit sweep at a fixed bandwidth (brief §7 E3). Per limit: QEMU runs with the
 * limit asked for (read back, and its expected downtime starts there), and stop-copy leaves no
 * more RAM than the limit allows: ≤ STOP_COPY_FACTOR × bandwidth × limit + slack.
 *
 * Between limits a < b (each consecutive pair, and the tightest against the loosest), stop-copy
 * bytes must grow strictly where the guest's dirty rate tells the two apart. QEMU switches over at
 * the first pass whose pending RAM fits bandwidth × limit; a guest dirtying D bytes/s leaves
 * D × (previous pass) pending, and the previous pass did not fit, so stop-copy at b is above
 * about min(working set, D × b). When that is clearly above bandwidth × a, the most stop-copy
 * at a (by TELL_APART_MARGIN), a limit that QEMU ignored or mixed up shows. A guest too idle to tell even the extremes apart gives no verdict.
 */
export function judgeDowntimeSweep(points: readonly SweepPoint[], setup: SweepSetup): SweepVerdict {
  const failures: string[] = [];
  const steps: string[] = [];
  const ordered = [...points].sort((x, y) => x.limitMs - y.limitMs);
  for (const p of ordered) {
    const at = `downtime-limit ${p.limitMs} ms`;
    if (p.readBackLimitMs !== p.limitMs) failures.push(`${at}: query-migrate-parameters reads back downtime-limit ${p.readBackLimitMs ?? 'nothing'} ms`);
    if (p.firstExpectedDowntimeMs !== p.limitMs) failures.push(`${at}: QEMU's expected downtime at the start of the migration is ${p.firstExpectedDowntimeMs ?? 'not reported'} ms, not the limit`);
    if (p.stopCopyBytes === null) {
      failures.push(`${at}: query-migrate has no ram.downtime-bytes`);
      continue;
    }
    const boundBytes = STOP_COPY_FACTOR * setup.bandwidthBytesPerSec * (p.limitMs / 1000) + setup.slackBytes;
    if (p.stopCopyBytes > boundBytes) failures.push(`${at}: stop-copy sent ${mb(p.stopCopyBytes)} of RAM, above ${STOP_COPY_FACTOR} × ${mb(setup.bandwidthBytesPerSec)}/s × ${p.limitMs} ms + ${mb(setup.slackBytes)} = ${mb(boundBytes)}: the limit did not bound the switchover`);
  }
  const pairs = ordered.slice(1).map((b, i) => [ordered[i]!, b] as const);
  if (ordered.length > 2) pairs.push([ordered[0]!, ordered[ordered.length - 1]!]);
  let inconclusive: string | null = ordered.length < 2 ? `a sweep needs two limits or more, got ${ordered.length}` : null;
  for (const [a, b] of pairs) {
    const step = `${a.limitMs} → ${b.limitMs} ms`;
    const isExtremes = a === ordered[0] && b === ordered[ordered.length - 1];
    if (a.stopCopyBytes === null || b.stopCopyBytes === null) continue;
    if (b.dirtyBytesPerSec === null) {
      failures.push(`${step}: no dirty rate reported at ${b.limitMs} ms, so nothing says whether the guest could tell the limits apart`);
      continue;
    }
    const floorBytes = Math.min(setup.workingSetBytes, b.dirtyBytesPerSec * (b.limitMs / 1000));
    const ceilingBytes = setup.bandwidthBytesPerSec * (a.limitMs / 1000);
    const figures = `${mb(a.stopCopyBytes)} → ${mb(b.stopCopyBytes)}; dirty rate at ${b.limitMs} ms ${mb(b.dirtyBytesPerSec)}/s, so stop-copy there above about ${mb(floorBytes)}, against at most ${mb(ceilingBytes)} at ${a.limitMs} ms (told apart above ${TELL_APART_MARGIN} × that)`;
    if (floorBytes <= TELL_APART_MARGIN * ceilingBytes) {
      steps.push(`${step}: not told apart by this guest (${figures})`);
      if (isExtremes) inconclusive = `the guest dirtied too little to tell the tightest limit from the loosest (${figures}): raise the dirtier's rate or working set`;
      continue;
    }
    steps.push(`${step}: must grow (${figures})`);
    if (!(b.stopCopyBytes > a.stopCopyBytes)) failures.push(`${step}: stop-copy bytes did not grow (${figures})`);
  }
  return { failures, inconclusive, steps };
}
