import { expect } from 'chai';
import { notShown, shown, unproven, type BugObservation, type BugReproduction } from './BugReproduction.js';
import type { QemuBuildIdentity } from '../config/QemuBuildIdentity.js';
import { TRACE_NOT_READ } from '../qemu/TraceFileRead.js';
import { VTD_BLOCKED_DOMAIN_UNMAP } from './vtdBlockedDomainUnmap.js';
import { decideVerdict } from './decideVerdict.js';
import { parseQemuVersion, qemuFixState } from './qemuFixState.js';

const never = { description: 'never', match: () => notShown('never') };
const PATCH7_LIKE: Pick<BugReproduction, 'fixedIn' | 'reachableFrom' | 'references' | 'before' | 'after'> = {
  references: { lore: [], fixCommits: ['cac33cb5533a'] },
  fixedIn: { kind: 'release', version: '11.0', note: 'pull-vfio-20260113' },
  reachableFrom: { version: '11.0', why: 'vIOMMU blocks VFIO migration before the series', signature: { description: 'vIOMMU blocker', match: (o: BugObservation) => o.startError?.includes('vIOMMU') === true ? shown('realize error') : notShown('no blocker') } },
  before: { description: 'E2BIG unmap', match: (o: BugObservation) => o.record?.reason?.includes('Argument list too long') === true ? shown('error-desc') : notShown('no E2BIG') },
  after: { description: 'completed', match: (o: BugObservation) => o.record?.outcome === 'completed' ? shown('completed') : notShown('not completed') },
};
const observation = (over: Partial<{ startError: string | null; reason: string | null; outcome: string | null }>): BugObservation => ({
  startError: over.startError ?? null, blockedReasons: [], sourceLog: '', sourceTrace: [], sourceTraceFile: TRACE_NOT_READ,
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

  it('a signature without its evidence makes the run INCONCLUSIVE, never a verdict, and lists what both sides missed', function () {
    const fixed = { state: 'fixed' as const, why: '11.1' };
    const lacking = { ...PATCH7_LIKE, before: { description: 'bug', match: () => unproven(['trace A']) }, after: { description: 'fix', match: () => unproven(['trace A', 'guest loop']) } };
    const verdict = decideVerdict(lacking, fixed, observation({ outcome: 'completed' }));
    expect(verdict.outcome).to.equal('INCONCLUSIVE');
    expect(verdict.missing).to.deep.equal(['trace A', 'guest loop']);
    // A shown signature is a verdict even when the other side lacks evidence.
    expect(decideVerdict({ ...lacking, after: PATCH7_LIKE.after }, fixed, observation({ outcome: 'completed' })).outcome).to.equal('FIXED');
    const blockerUnproven = { ...PATCH7_LIKE, reachableFrom: { ...PATCH7_LIKE.reachableFrom!, signature: { description: 'blocker', match: () => unproven(['start error text']) } } };
    expect(decideVerdict(blockerUnproven, { state: 'unreachable', why: '10.0' }, observation({})).outcome).to.equal('INCONCLUSIVE');
  });

  describe('from build identity, before version numbers', function () {
    const series = ['31ec4aadd066', 'f051dbeb91a2', 'e79bc265ef54', '374e28d876e4', 'e98a1c70493d', '6e360c06176c', '46c763311419', '0e3c1e2b2b24'];
    const build = (name: string, applied: readonly string[], leftOut: readonly string[]): QemuBuildIdentity => ({
      kind: 'source', name, base: '1:10.2.2+ds-1', appliedCommits: applied, leftOutCommits: leftOut, localPatches: ['0100-boards-header.patch'], inputsHash: 'h', pkgVersion: name,
    });
    const on = (identity: QemuBuildIdentity | null, version = '10.2.2') => qemuFixState({ version, versionLine: `QEMU emulator version ${version}`, identity }, VTD_BLOCKED_DOMAIN_UNMAP);

    it('a build that applies the fix commit is fixed, though its version is older than the fix release', function () {
      const fix = on(build('qemu-series', [...series, 'cac33cb5533ad38fd16b02468c1adbbed53ea536'], []));
      expect(fix.state).to.equal('fixed');
      expect(fix.why).to.match(/^build qemu-series \(1:10\.2\.2\+ds-1 \+ 9 upstream patches \+ local 0100-boards-header\.patch\) applies fix commit cac33cb5533a/);
    });

    it('a build that leaves the fix out but applies what reaches the path is unfixed, so it can give REPRODUCED', function () {
      const fix = on(build('qemu-series-nofix', series, ['cac33cb5533a']));
      expect(fix.state).to.equal('unfixed');
      expect(fix.why).to.include('leaves out fix commit cac33cb5533a and applies 0e3c1e2b2b24');
      // By its version alone the same build is "unreachable", where a REPRODUCED is impossible.
      expect(on(null).state).to.equal('unreachable');
      const bug = { startError: null, blockedReasons: [], sourceLog: '', sourceTrace: [], sourceTraceFile: TRACE_NOT_READ, record: null };
      expect(decideVerdict(PATCH7_LIKE, fix, { ...bug, record: { outcome: 'failed', reason: 'vfio_container_dma_unmap(0x1, 0x100000000000, 0x100000000000) = -7 (Argument list too long)' } as never }).outcome).to.equal('REPRODUCED');
    });

    it('a build that leaves out what reaches the path is unreachable, whatever it does with the fix', function () {
      const fix = on(build('no-reach', series.filter((c) => c !== '0e3c1e2b2b24'), ['0e3c1e2b2b24', 'cac33cb5533a']), '11.1.0');
      expect(fix.state).to.equal('unreachable');
      expect(fix.why).to.include('leaves out 0e3c1e2b2b24');
    });

    it('a build that lacks the fix and does not mention the reachability commit takes reachability from its version', function () {
      expect(on(build('partial', ['31ec4aadd066'], ['cac33cb5533a'])).state).to.equal('unreachable');
      expect(on(build('partial', ['31ec4aadd066'], ['cac33cb5533a']), '11.0.0').state).to.equal('unfixed');
    });

    it('falls back to the version for binaries and for builds that do not mention the fix', function () {
      expect(on({ kind: 'binary', name: 'qemu-11' }, '11.1.3').state).to.equal('fixed');
      expect(on({ kind: 'binary', name: 'qemu-10' }, '10.0.13').state).to.equal('unreachable');
      expect(on(build('plain-base', [], []), '11.1.3').state).to.equal('fixed');
      expect(on(build('plain-base', [], []), '10.2.2').state).to.equal('unreachable');
    });

    it('a bug with no fix commits (a behaviour mainline always had) is judged by version only', function () {
      const always = { references: { lore: [], fixCommits: [] }, fixedIn: { kind: 'always' as const, sinceVersion: '9.1', note: 'patch dropped' } };
      expect(qemuFixState({ version: '10.0.2', versionLine: '', identity: build('x', series, []) }, always).state).to.equal('fixed');
    });
  });
});
