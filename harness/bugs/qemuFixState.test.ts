import { expect } from 'chai';
import type { BugReproduction } from './BugReproduction.js';
import { decideVerdict } from './decideVerdict.js';
import { parseQemuVersion, qemuFixState } from './qemuFixState.js';

const never = { description: 'never', evidence: () => null };
const PATCH7_LIKE: Pick<BugReproduction, 'fixedIn' | 'reachableFrom' | 'references' | 'before' | 'after'> = {
  references: { lore: [], fixCommits: ['cac33cb5533a'] },
  fixedIn: { kind: 'release', version: '11.0', note: 'pull-vfio-20260113' },
  reachableFrom: { version: '11.0', why: 'vIOMMU blocks VFIO migration before the series', signature: { description: 'vIOMMU blocker', evidence: (o) => o.startError?.includes('vIOMMU') === true ? 'realize error' : null } },
  before: { description: 'E2BIG unmap', evidence: (o) => o.record?.reason?.includes('Argument list too long') === true ? 'error-desc' : null },
  after: { description: 'completed', evidence: (o) => o.record?.outcome === 'completed' ? 'completed' : null },
};
const observation = (over: Partial<{ startError: string | null; reason: string | null; outcome: string | null }>) => ({
  startError: over.startError ?? null, blockedReasons: [], sourceLog: '', sourceTrace: [],
  record: over.outcome === undefined ? null : ({ outcome: over.outcome, reason: over.reason ?? null } as never),
});

describe('qemuFixState and decideVerdict', function () {
  it('parses QEMU versions, with a missing micro as 0', function () {
    expect(parseQemuVersion('10.0.2')).to.deep.equal([10, 0, 2]);
    expect(parseQemuVersion('11.1')).to.deep.equal([11, 1, 0]);
    expect(parseQemuVersion(null)).to.equal(null);
  });

  it('places a QEMU against the fix: released after, development build of the cycle, older and unreachable, named commit', function () {
    const state = (version: string, versionLine = `QEMU emulator version ${version}`) => qemuFixState({ version, versionLine }, PATCH7_LIKE).state;
    expect(state('11.1.0')).to.equal('fixed');
    expect(state('11.0.0')).to.equal('fixed');
    expect(state('10.2.50')).to.equal('unknown');
    expect(state('10.0.2')).to.equal('unreachable');
    expect(state('10.2.50', 'QEMU emulator version 10.2.50 (v10.2.0-1432-gcac33cb5533a)')).to.equal('fixed');
    const noReach = { ...PATCH7_LIKE, reachableFrom: undefined };
    expect(qemuFixState({ version: '10.1.0', versionLine: '' }, noReach).state).to.equal('unfixed');
    expect(qemuFixState({ version: '9.2.50', versionLine: '' }, noReach).state).to.equal('unfixed');
  });

  it('a behaviour mainline always had is fixed from its first version on', function () {
    const always = { references: { lore: [], fixCommits: [] }, fixedIn: { kind: 'always' as const, sinceVersion: '9.1', note: 'patch dropped' } };
    expect(qemuFixState({ version: '10.0.2', versionLine: '' }, always).state).to.equal('fixed');
    expect(qemuFixState({ version: '9.0.0', versionLine: '' }, always).state).to.equal('unknown');
  });

  it('decides REPRODUCED, FIXED and UNEXPECTED from the signature and the expectation', function () {
    const fixed = { state: 'fixed' as const, why: '11.1' };
    const unfixed = { state: 'unfixed' as const, why: '10.2' };
    const unknown = { state: 'unknown' as const, why: '10.2.50' };
    const bug = { reason: 'vfio_container_dma_unmap(0x1, 0x100000000000, 0x100000000000) = -7 (Argument list too long)', outcome: 'failed' };
    expect(decideVerdict(PATCH7_LIKE, unfixed, observation(bug)).outcome).to.equal('REPRODUCED');
    expect(decideVerdict(PATCH7_LIKE, unknown, observation(bug)).outcome).to.equal('REPRODUCED');
    expect(decideVerdict(PATCH7_LIKE, fixed, observation(bug)).why).to.match(/^regression/);
    expect(decideVerdict(PATCH7_LIKE, fixed, observation({ outcome: 'completed' })).outcome).to.equal('FIXED');
    expect(decideVerdict(PATCH7_LIKE, unfixed, observation({ outcome: 'completed' })).outcome).to.equal('UNEXPECTED');
    expect(decideVerdict(PATCH7_LIKE, fixed, observation({ outcome: 'failed', reason: 'something else' })).outcome).to.equal('UNEXPECTED');
  });

  it('an unreachable bug is UNREACHABLE only when the blocker that stops it shows', function () {
    const unreachable = { state: 'unreachable' as const, why: '10.0.2' };
    expect(decideVerdict(PATCH7_LIKE, unreachable, observation({ startError: 'Migration is currently not supported with vIOMMU enabled' })).outcome).to.equal('UNREACHABLE');
    expect(decideVerdict(PATCH7_LIKE, unreachable, observation({ outcome: 'completed' })).outcome).to.equal('UNEXPECTED');
    expect(decideVerdict({ ...PATCH7_LIKE, before: never, after: never }, { state: 'fixed', why: '' }, observation({})).outcome).to.equal('UNEXPECTED');
  });
});
