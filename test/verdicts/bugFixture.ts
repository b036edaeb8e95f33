import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BugObservation, DestinationCheck, GuestLoopEvidence } from '../../harness/bugs/BugReproduction.js';
import type { BugVerdict } from '../../harness/bugs/decideVerdict.js';
import type { QemuUnderTest } from '../../harness/bugs/qemuFixState.js';
import type { HookRecord, MigrationRecord, MigrationSample } from '../../harness/migration/MigrationRecord.js';
import { projectRoot } from '../../harness/projectRoot.js';
import type { QemuBuildIdentity } from '../../harness/config/QemuBuildIdentity.js';
import { parseTraceReadOutput, readTraceRecords, type TraceFileRead } from '../../harness/qemu/TraceFileRead.js';

/** The fixtures are data: read from the checkout, never from dist/. */
export const BUG_FIXTURE_DIR = join(projectRoot(), 'test', 'verdicts', 'fixtures', 'bugs');

/**
 * One recorded bug run, cut down to what a verdict reads: the QEMU build, the migration's error-desc,
 * MIGRATION events, status samples and phase hooks, stderr lines, the trace lines that matter, the
 * guest loop's counts and the destination check. Each fixture's `about` names the run and files it
 * was cut from and what was left out, or says it is synthetic. A fixture goes through the same
 * trace reader as a lab run (parseTraceReadOutput → readTraceRecords), so an empty or damaged trace
 * is judged the same way.
 */
export interface BugRunFixture {
  readonly about: string;
  readonly qemu: { readonly version: string | null; readonly versionLine: string | null; readonly identity: QemuBuildIdentity | null };
  readonly record: {
    readonly id: string;
    readonly outcome: MigrationRecord['outcome'];
    readonly reason: string | null;
    readonly events: readonly { readonly side: 'source' | 'destination'; readonly name: string; readonly status: string; readonly hostTimestampMs: number }[];
    readonly samples: readonly MigrationSample[];
    readonly measurements: MigrationRecord['measurements'];
    /** The record's phase hooks as recorded (a failed hook says why the guest loop never reported); absent = none. */
    readonly hooks?: readonly HookRecord[];
  } | null;
  readonly sourceLog: readonly string[];
  /** file "missing": QEMU wrote no trace file; "present" with its lines ([] = an empty file). */
  readonly trace: { readonly file: 'missing' | 'present'; readonly lines: readonly string[]; readonly sizeBytes?: number };
  readonly guestLoop: GuestLoopEvidence | null;
  readonly destination: DestinationCheck | null;
  /** The verdict the run itself printed (its bug-verdict.json), for runs whose harness recorded one: what a cut must still give. */
  readonly recordedVerdict?: { readonly outcome: BugVerdict['outcome']; readonly why: string };
}

export function loadBugFixture(name: string): BugRunFixture {
  return JSON.parse(readFileSync(join(BUG_FIXTURE_DIR, `${name}.json`), 'utf8')) as BugRunFixture;
}

export function qemuOf(fixture: BugRunFixture): QemuUnderTest {
  return { version: fixture.qemu.version, versionLine: fixture.qemu.versionLine, identity: fixture.qemu.identity };
}

const TRACE_PATH = '/var/lib/hil/vms/src/trace.log';

/** The shell output a trace read of this fixture's file would give. */
function traceRead(fixture: BugRunFixture): TraceFileRead {
  if (fixture.trace.file === 'missing') return parseTraceReadOutput(TRACE_PATH, 'missing\n');
  const text = fixture.trace.lines.map((l) => `${l}\n`).join('');
  return parseTraceReadOutput(TRACE_PATH, `${fixture.trace.sizeBytes ?? Buffer.byteLength(text)}\n${text}`);
}

export function observationOf(fixture: BugRunFixture): BugObservation {
  const trace = readTraceRecords(traceRead(fixture));
  const r = fixture.record;
  const record: MigrationRecord | null = r === null ? null : {
    id: r.id,
    source: { host: 'src', vm: 'hil-src' },
    destination: { host: 'dst', vm: 'hil-dst' },
    uri: 'tcp:10.232.0.12:4444',
    startedAtMs: r.events[0]?.hostTimestampMs ?? 0,
    endedAtMs: r.events[r.events.length - 1]?.hostTimestampMs ?? 0,
    capabilities: {},
    parameters: {},
    blockedReasons: [],
    outcome: r.outcome,
    reason: r.reason,
    finalInfo: { source: null, destination: null },
    samples: [...r.samples],
    events: r.events.map((e) => ({ side: e.side, name: e.name, data: { status: e.status }, hostTimestampMs: e.hostTimestampMs, receivedAtMs: e.hostTimestampMs })),
    hooks: (r.hooks ?? []).map((h) => ({ ...h })),
    isSourceResumed: null,
    clockOffsetMs: { source: 0, destination: 0 },
    probe: null,
    measurements: r.measurements,
  };
  return {
    startError: null,
    blockedReasons: [],
    record,
    sourceLog: fixture.sourceLog.map((l) => `${l}\n`).join(''),
    sourceTrace: trace.lines,
    sourceTraceFile: trace.facts,
    guestLoop: fixture.guestLoop,
    destination: fixture.destination,
  };
}

/** A copy of a fixture with some parts replaced: how the negative controls are made from real runs. */
export function withChanges(fixture: BugRunFixture, changes: Partial<BugRunFixture>): BugRunFixture {
  return { ...fixture, ...changes };
}
