import { HarnessError } from '../errors.js';
import { selectTraceLines, type TraceLine } from '../qemu/parseTraceLog.js';
import { notShown, shown, unproven, type BugObservation, type SignatureMatch } from './BugReproduction.js';
import { sourceActiveWindow } from './sourceActiveWindow.js';

/**
 * The checks every bug record makes before it names a verdict: that the source trace can show what
 * it is asked (present, with lines, timed, readable), that the migration's pre-copy window is known,
 * that the guest's loop really ran there, that the destination was looked at. Each returns what is
 * missing, in words for the INCONCLUSIVE error; an empty list means the evidence is there.
 */

export type Window = { readonly fromMs: number; readonly toMs: number };

/** The source's pre-copy window (MIGRATION active → final), or what is missing to know it. */
export function preCopyWindow(o: BugObservation): { readonly window: Window } | { readonly missing: string } {
  if (o.record === null) return { missing: 'no migration ran, so there is no pre-copy window' };
  try {
    return { window: sourceActiveWindow(o.record) };
  } catch (error) {
    if (error instanceof HarnessError && error.code === 'NO_ACTIVE_WINDOW') return { missing: `the pre-copy window: ${error.message}` };
    throw error;
  }
}

/**
 * What keeps the source trace from showing a record (`presence`) or from showing that a record is
 * absent (`absence`, stricter: a truncated or partly unreadable trace may have lost the record).
 */
export function traceGaps(o: BugObservation, use: 'presence' | 'absence'): string[] {
  const file = o.sourceTraceFile;
  const where = file.path ?? 'the source trace';
  switch (file.state) {
    case 'not-read': return ['the source trace (no source QEMU ran)'];
    case 'missing': return [`the source trace: ${where} does not exist (was QEMU started with -trace/-D?)`];
    case 'empty': return [`the source trace: ${where} is empty`];
    case 'has-lines': break;
  }
  const gaps: string[] = [];
  if (file.recordCount === 0) gaps.push(`trace records: none of the ${file.unparsedLineCount + file.messageLineCount} lines of ${where} is a trace record`);
  else if (!o.sourceTrace.some((l) => l.atMs !== null)) gaps.push(`timed trace records: ${where} has ${file.recordCount} records and none carries a timestamp (-msg timestamp=on), so none can be placed in pre-copy`);
  if (use === 'absence') {
    if (file.unparsedLineCount > 0) gaps.push(`a readable trace: ${file.unparsedLineCount} lines of ${where} could not be parsed (e.g. "${file.unparsedSamples[0] ?? ''}"), so a record's absence proves nothing`);
    if (file.isTruncated) gaps.push(`the whole trace: only the tail of ${where} (${file.sizeBytes} bytes) was read, so a record's absence proves nothing`);
  }
  return gaps;
}

/** What the guest's loop lacks to show that the guest moved its device through the blocking domain. */
export function guestLoopGaps(o: BugObservation): string[] {
  const loop = o.guestLoop;
  if (loop === undefined) return ['the guest loop: this scenario reports none'];
  if (loop === null) {
    const failed = o.record?.hooks.filter((h) => h.error !== null).map((h) => `hook "${h.name}" failed: ${h.error}`) ?? [];
    return [`the guest loop: it never reported (${failed.length > 0 ? failed.join('; ') : 'the phase hook did not fire'})`];
  }
  const gaps: string[] = [];
  if (loop.cycles === 0) gaps.push('guest cycles: the loop ran 0 cycles');
  if (loop.failedCycles > 0 || loop.succeededCycles !== loop.cycles) {
    gaps.push(`successful guest cycles: ${loop.failedCycles} of ${loop.cycles} failed (${loop.succeededCycles} succeeded)${loop.errors.length > 0 ? `: ${loop.errors.slice(0, 3).join('; ')}` : ''}`);
  }
  if (loop.statusBefore !== 'active' || loop.statusAfter !== 'active') {
    gaps.push(`the loop inside pre-copy: the source's status was "${loop.statusBefore}" before it and "${loop.statusAfter}" after it (lower the bandwidth)`);
  }
  return gaps;
}

/** "0000:00:03.0" → "00:03.0", as VT-d traces name a device. */
export function vtdDeviceName(bdf: string): string {
  return bdf.replace(/^[0-9a-f]{4}:/i, '');
}

/** The device's domain changes the source trace shows inside pre-copy. */
export function domainSwitchesInPreCopy(o: BugObservation, window: Window): { readonly deviceSwitches: number; readonly contextInvalidations: number } {
  const device = o.guestLoop === null || o.guestLoop === undefined ? null : vtdDeviceName(o.guestLoop.bdf);
  const switches = selectTraceLines(o.sourceTrace, 'vtd_switch_address_space', window).filter((l) => device === null || l.args.includes(`Device ${device} `));
  return { deviceSwitches: switches.length, contextInvalidations: selectTraceLines(o.sourceTrace, 'vtd_inv_desc_cc_*', window).length };
}

/**
 * Each cycle of the guest loop moves the device through the blocking domain, and each move
 * rewrites its context entry: the source must show at least one switch (or context-cache
 * invalidation) per cycle inside pre-copy.
 */
export function switchGaps(o: BugObservation, window: Window): string[] {
  const cycles = o.guestLoop?.cycles ?? 0;
  const { deviceSwitches, contextInvalidations } = domainSwitchesInPreCopy(o, window);
  const seen = Math.max(deviceSwitches, contextInvalidations);
  return seen >= Math.max(cycles, 1) ? [] : [`the domain switches in the source trace inside pre-copy: ${deviceSwitches} vtd_switch_address_space for the device and ${contextInvalidations} vtd_inv_desc_cc_* for ${cycles} guest cycles (at least one per cycle)`];
}

export function describeSwitches(o: BugObservation, window: Window): string {
  const { deviceSwitches, contextInvalidations } = domainSwitchesInPreCopy(o, window);
  return `${deviceSwitches} vtd_switch_address_space for ${o.guestLoop === null || o.guestLoop === undefined ? 'the device' : vtdDeviceName(o.guestLoop.bdf)} and ${contextInvalidations} context-cache invalidations inside pre-copy for ${o.guestLoop?.cycles ?? 0} guest cycles, all succeeded`;
}

/** Above the largest VT-d page (1 GiB): an UNMAP that size is a whole-space chunk, not one mapping. */
const LARGEST_MAPPING_BYTES = 1n << 30n;

export interface UnmapNotifications {
  /** UNMAP notifications of one page or huge page (a recorded mapping, with its translated address). */
  readonly perMapping: number;
  /** Of those, the ones inside the guest program's own DMA window. */
  readonly ofGuestWindow: number;
  /** UNMAP notifications larger than any mapping: the whole-space unmap reaching VFIO. */
  readonly wholeSpace: readonly TraceLine[];
}

const MAP_NOTIFY = /\bUNMAP @ (0x[0-9a-f]+) - (0x[0-9a-f]+)/i;

/** vfio_iommu_map_notify UNMAP records inside pre-copy ("iommu UNMAP @ 0x10000000 - 0x10000fff"). */
export function unmapNotifications(o: BugObservation, window: Window): UnmapNotifications {
  const dma = o.guestLoop?.dmaWindow ?? null;
  let perMapping = 0;
  let ofGuestWindow = 0;
  const wholeSpace: TraceLine[] = [];
  for (const line of selectTraceLines(o.sourceTrace, 'vfio_iommu_map_notify', window)) {
    const range = MAP_NOTIFY.exec(line.args);
    if (range === null) continue;
    const start = BigInt(range[1]!);
    const end = BigInt(range[2]!);
    if (end - start + 1n > LARGEST_MAPPING_BYTES) {
      wholeSpace.push(line);
      continue;
    }
    perMapping++;
    if (dma !== null && start >= BigInt(dma.iova) && end < BigInt(dma.iova) + BigInt(dma.sizeBytes)) ofGuestWindow++;
  }
  return { perMapping, ofGuestWindow, wholeSpace };
}

/** A look at the destination guest: what contradicts a fix (it died or rebooted) and what is missing. */
export function destinationFindings(o: BugObservation): { readonly contradiction: string | null; readonly missing: string | null; readonly evidence: string } {
  const d = o.destination;
  if (d === undefined || d === null) return { contradiction: null, missing: 'the destination check: nobody looked at the guest on the destination after the migration', evidence: '' };
  if (!d.hasGuestAnswered) return { contradiction: `the guest on the destination did not answer (${d.detail})`, missing: null, evidence: '' };
  if (d.isSameBoot === false) return { contradiction: `the guest on the destination runs a different boot (it rebooted): ${d.detail}`, missing: null, evidence: '' };
  if (d.isDeviceUsable === false) return { contradiction: `the device is not usable on the destination: ${d.detail}`, missing: null, evidence: '' };
  if (d.isSameBoot === null || d.isDeviceUsable === null) return { contradiction: null, missing: `the destination check: ${d.isSameBoot === null ? 'boot id not compared' : 'device not tried'} (${d.detail})`, evidence: '' };
  return { contradiction: null, missing: null, evidence: `the guest answered on the destination with the same boot id and claimed the device there (${d.detail})` };
}

/** The fixed behaviour of a blocked-domain scenario: completed, the path ran (loop, switches), the destination alive, and `read`'s records. */
export function completedPathSignature(o: BugObservation, read: (window: Window) => { readonly contradiction: string | null; readonly missing: string | null; readonly text: string }): SignatureMatch {
  if (o.record === null) return notShown('no migration ran');
  if (o.record.outcome !== 'completed') return notShown(`migration ${o.record.outcome ?? 'without outcome'}${o.record.reason !== null ? ` (${o.record.reason.slice(0, 200)})` : ''}`);
  const destination = destinationFindings(o);
  if (destination.contradiction !== null) return notShown(destination.contradiction);
  const missing = [...guestLoopGaps(o), ...traceGaps(o, 'absence')];
  if (destination.missing !== null) missing.push(destination.missing);
  const pre = preCopyWindow(o);
  if ('missing' in pre) return unproven([...missing, pre.missing]);
  const seen = read(pre.window);
  if (seen.contradiction !== null) return notShown(seen.contradiction);
  missing.push(...switchGaps(o, pre.window));
  if (seen.missing !== null) missing.push(seen.missing);
  return missing.length > 0 ? unproven(missing) : shown(`completed; ${describeSwitches(o, pre.window)}; ${seen.text}; ${destination.evidence}`);
}
