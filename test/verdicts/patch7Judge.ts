import { expect } from 'chai';
import { decideVerdict, type BugVerdict } from '../../harness/bugs/decideVerdict.js';
import { qemuFixState, type FixState } from '../../harness/bugs/qemuFixState.js';
import { VTD_BLOCKED_DOMAIN_UNMAP } from '../../harness/bugs/vtdBlockedDomainUnmap.js';
import { observationOf, qemuOf, type BugRunFixture } from './bugFixture.js';

/** The real patch-7 record, judged on a recorded run as `hil run --bug` would judge it. */
export function judge(fixture: BugRunFixture): BugVerdict {
  return decideVerdict(VTD_BLOCKED_DOMAIN_UNMAP, qemuFixState(qemuOf(fixture), VTD_BLOCKED_DOMAIN_UNMAP), observationOf(fixture));
}

/** The same observation judged as if it came from a build that carries the fix: where FIXED from absence would show. */
const ON_A_FIXED_BUILD: FixState = { state: 'fixed', why: 'judged as if the build carried the fix' };
export function judgeOnFixedBuild(fixture: BugRunFixture): BugVerdict {
  return decideVerdict(VTD_BLOCKED_DOMAIN_UNMAP, ON_A_FIXED_BUILD, observationOf(fixture));
}

/** Never FIXED, on the build it ran on or on one with the fix: the fix's signature is not shown. */
export function expectNeverFixed(fixture: BugRunFixture): void {
  expect(VTD_BLOCKED_DOMAIN_UNMAP.after.match(observationOf(fixture)).kind).to.not.equal('shown');
  expect(judge(fixture).outcome).to.not.equal('FIXED');
  expect(judgeOnFixedBuild(fixture).outcome).to.not.equal('FIXED');
}

export function expectInconclusive(verdict: BugVerdict, missing: RegExp): void {
  expect(verdict.outcome, verdict.why).to.equal('INCONCLUSIVE');
  expect(verdict.missing.join('\n')).to.match(missing);
}

/** A vfio_iommu_map_notify UNMAP above 1 GiB: a chunk of a whole-space unmap. */
export function isLargerThanAnyMapping(line: string): boolean {
  const range = /UNMAP @ (0x[0-9a-f]+) - (0x[0-9a-f]+)$/.exec(line);
  return range !== null && BigInt(range[2]!) - BigInt(range[1]!) + 1n > 1n << 30n;
}

/** Every trace line cut inside its event name: a file of lines none of which can be read. */
export const torn = (lines: readonly string[]): string[] => lines.map((l) => l.slice(0, 35));

/** A trace record as the lab's QEMU writes it (-msg timestamp=on): "2026-12-03T13:54:55.000000Z event args". */
export function isoTraceLine(atMs: number, event: string, args: string): string {
  const stamp = new Date(Math.floor(atMs)).toISOString().replace(/\.(\d{3})Z$/, (_m, millis: string) => `.${millis}000Z`);
  return `${stamp} ${event} ${args}`;
}

/** The source's MIGRATION active event of a recorded run, host clock: where its pre-copy begins. */
export function sourceActiveAtMs(fixture: BugRunFixture): number {
  const active = fixture.record?.events.find((e) => e.side === 'source' && e.status === 'active');
  expect(active, 'the fixture has a source MIGRATION active event').to.not.equal(undefined);
  return active!.hostTimestampMs;
}
