import { expect } from 'chai';
import { InconclusiveError } from '../../harness/bugs/InconclusiveError.js';
import { VTD_BLOCKED_DOMAIN_UNMAP } from '../../harness/bugs/vtdBlockedDomainUnmap.js';
import { failureOutcome } from '../../harness/mocha/HilReporter.js';
import { loadBugFixture, observationOf, withChanges } from './bugFixture.js';
import { expectInconclusive, expectNeverFixed, isLargerThanAnyMapping, judge, judgeOnFixedBuild, torn } from './patch7Judge.js';

describe('verdict controls: patch 7 (vtd-blocked-domain-unmap) on recorded runs', function () {
  // Real: nested lab, 10.2.2 + the series without 0027 (cac33cb5533a), run 20261203-112408-d3f7.
  const m2 = loadBugFixture('patch7-nofix-m2-reproduced');
  const m1 = loadBugFixture('patch7-nofix-m1-no-switch');
  // Real: the same build with intel-iommu aw-bits=39, run 20261203-110320-6585.
  const aw39 = loadBugFixture('patch7-nofix-aw39-control');
  // Real: the same build again, CI's nested stage, run 20261203-135250-1dce (a second, independent REPRODUCED).
  const second = loadBugFixture('patch7-nofix-reproduced-2');
  // Real: the build with the fix, the same CI stage, run 20261203-135359-1d24 (its controls: bugVtdBlockedDomainUnmapFixed.test.ts).
  const fixed = loadBugFixture('patch7-series-fixed');
  // Real: the same build, a fresh-clone stage run 20261203-175022-c6c2, whose record came after the failure.
  const afterFailure = loadBugFixture('patch7-nofix-record-after-failure');

  it('each fixture says where it came from: every one of these names its real run and the files it was cut from', function () {
    expect(m2.about).to.match(/^Real: run 20261203-112408-d3f7 .*m2\.migration\.json/);
    expect(m1.about).to.match(/^Real: run 20261203-112408-d3f7 .*m1\.migration\.json/);
    expect(aw39.about).to.match(/^Real: run 20261203-110320-6585 .*--viommu-aw-bits 39/);
    expect(second.about).to.match(/^Real: run 20261203-135250-1dce .*m1\.migration\.json.*bug-verdict\.json/);
    expect(fixed.about).to.match(/^Real: run 20261203-135359-1d24 .*m1\.migration\.json.*bug-verdict\.json/);
  });

  describe('the real runs of the build without the fix', function () {
    it('m2 (failed): REPRODUCED, naming the real error-desc, the whole-space unmap inside pre-copy and the stderr line', function () {
      const verdict = judge(m2);
      expect(verdict.outcome, verdict.why).to.equal('REPRODUCED');
      expect(verdict.why).to.include('error-desc "vfio_container_dma_unmap(0x5574a8645e20, 0x100000000000, 0x100000000000) = -7 (Argument list too long)"');
      // The record's window is source MIGRATION active (11:26:45.308) → failed (11:26:46.698); the
      // two records at 11:26:46.629 and .631 are the 48-bit space's whole-space unmap.
      expect(verdict.why).to.include('2 vtd_as_unmap_whole inside pre-copy (first: "Device 00:01.0 start 0xfef00000 size 0xffff01100000")');
      expect(verdict.why).to.include('stderr "UNMAP: Size of bitmap too big 0x20000000"');
      expect(verdict.why).to.match(/expected for this QEMU: unfixed \(build qemu-series-nofix .* leaves out fix commit cac33cb5533a and applies 0e3c1e2b2b24/);
    });

    it('the second run (CI, attempt 1): REPRODUCED, word for word the verdict that run printed', function () {
      const verdict = judge(second);
      expect(verdict.outcome, verdict.why).to.equal('REPRODUCED');
      expect(verdict.why).to.include('error-desc "vfio_container_dma_unmap(0x558facba9e20, 0x100000000000, 0x100000000000) = -7 (Argument list too long)"');
      expect(verdict.why).to.include('2 vtd_as_unmap_whole inside pre-copy (first: "Device 00:01.0 start 0xfef00000 size 0xffff01100000")');
      expect(verdict.why).to.include('stderr "UNMAP: Size of bitmap too big 0x20000000"');
      // The cut keeps every record the bug's signature reads, so it must give what the lab run gave.
      expect(second.recordedVerdict).to.deep.equal({ outcome: 'REPRODUCED', why: verdict.why });
    });

    it('two independent runs: different QEMU processes and guest loops, the same verdict', function () {
      expect(second.record!.reason).to.not.equal(m2.record!.reason);
      expect(second.guestLoop!.cycles).to.not.equal(m2.guestLoop!.cycles);
      expect([judge(m2).outcome, judge(second).outcome]).to.deep.equal(['REPRODUCED', 'REPRODUCED']);
    });

    it('the second run with its evidence taken away: not REPRODUCED', function () {
      expectInconclusive(judge(withChanges(second, { trace: { file: 'present', lines: [] } })), /trace\.log is empty/);
      expectInconclusive(judge(withChanges(second, { trace: { file: 'present', lines: second.trace.lines.filter((l) => !l.includes(' vtd_as_unmap_whole ')) } })), /vtd_as_unmap_whole in the source trace inside pre-copy: none among/);
      const regression = judge(withChanges(second, { qemu: fixed.qemu }));
      expect(regression.outcome).to.equal('UNEXPECTED');
      expect(regression.why).to.match(/^regression/);
    });

    it('m2 without the stderr line: still REPRODUCED (error-desc and trace carry it), and the evidence says the line is missing', function () {
      const verdict = judge(withChanges(m2, { sourceLog: m2.sourceLog.filter((l) => !l.includes('UNMAP: Size of bitmap too big')) }));
      expect(verdict.outcome).to.equal('REPRODUCED');
      expect(verdict.why).to.include('stderr has no "UNMAP: Size of bitmap too big"');
    });

    it('m1 (completed, the guest loop never ran inside pre-copy): INCONCLUSIVE, neither REPRODUCED nor FIXED', function () {
      const verdict = judge(m1);
      expectInconclusive(verdict, /the guest loop: it never reported \(hook "vfio-user-program on the assigned device" failed: guest console of hil-20261203-112408-d3f7-src on host-a: .* did not appear within 65000 ms/);
      expect(verdict.missing.join('\n')).to.include('the domain switches in the source trace inside pre-copy: 0 vtd_switch_address_space for the device');
      expect(verdict.missing.join('\n')).to.include('the destination check: nobody looked at the guest on the destination');
      expect(VTD_BLOCKED_DOMAIN_UNMAP.before.match(observationOf(m1))).to.deep.equal({ kind: 'not-shown', why: 'migration completed, not failed with the E2BIG unmap' });
    });

    it('m1 judged as if from a build with the fix: INCONCLUSIVE — a completed migration with no unmap error and no whole-space unmap is not FIXED', function () {
      // The finding this guards against: the old `after` signature gave FIXED on exactly this run.
      expect(m1.sourceLog.join('\n')).to.not.match(/UNMAP: Size of bitmap too big|vfio_container_dma_unmap\(/);
      expectInconclusive(judgeOnFixedBuild(m1), /0 vtd_switch_address_space for the device/);
    });

    it('aw-bits=39 control (completed): UNEXPECTED, not FIXED — the build lacks the fix and the whole-space unmap ran inside pre-copy, only too small to fail', function () {
      // 216 whole-space unmaps of the 39-bit space (0xfef00000 + 0x7f01100000 = 2^39) inside
      // pre-copy, and no E2BIG: its dirty bitmap stays under type1's limit. That contradicts the
      // bug's signature (the migration completed) and the fix's (a whole-space unmap happened),
      // so the record says neither, naming both reasons.
      const verdict = judge(aw39);
      expect(verdict.outcome, verdict.why).to.equal('UNEXPECTED');
      expect(verdict.why).to.include('(migration completed, not failed with the E2BIG unmap)');
      expect(verdict.why).to.include('(216 vtd_as_unmap_whole inside pre-copy (first: "Device 00:01.0 start 0xfef00000 size 0x7f01100000"))');
      expect(verdict.why).to.match(/expected for this QEMU: unfixed/);
      expect(judgeOnFixedBuild(aw39).outcome).to.equal('UNEXPECTED');
    });
  });

  describe('negative controls on the real runs: missing evidence is INCONCLUSIVE, never FIXED', function () {
    it('an empty trace file: m2 is not REPRODUCED, m1 and the aw39 run are not FIXED', function () {
      const empty = { file: 'present' as const, lines: [] };
      expectInconclusive(judge(withChanges(m2, { trace: empty })), /trace\.log is empty/);
      for (const completed of [m1, aw39]) {
        expectInconclusive(judgeOnFixedBuild(withChanges(completed, { trace: empty })), /trace\.log is empty/);
        expectNeverFixed(withChanges(completed, { trace: empty }));
      }
    });

    it('no trace file at all: the aw39 run is not FIXED', function () {
      const noFile = withChanges(aw39, { trace: { file: 'missing', lines: [] } });
      expectInconclusive(judgeOnFixedBuild(noFile), /trace\.log does not exist/);
      expectNeverFixed(noFile);
    });

    it('an unparseable trace: m2 is not REPRODUCED, the aw39 run is not FIXED', function () {
      expectInconclusive(judge(withChanges(m2, { trace: { file: 'present', lines: torn(m2.trace.lines) } })), /none of the 57 lines of .* is a trace record/);
      const tornAw39 = withChanges(aw39, { trace: { file: 'present', lines: torn(aw39.trace.lines) } });
      expectInconclusive(judgeOnFixedBuild(tornAw39), /none of the \d+ lines of .* is a trace record/);
      expectNeverFixed(tornAw39);
    });

    it('a partly unparseable trace on m1: the absence of vtd_as_unmap_whole proves nothing there', function () {
      const damaged = withChanges(m1, { trace: { file: 'present', lines: [...m1.trace.lines, '2026-12-03T11:25:01.5', 'vtd_as_unm'] } });
      expectInconclusive(judgeOnFixedBuild(damaged), /2 lines of .* could not be parsed/);
      expectNeverFixed(damaged);
    });

    it('the guest loop\'s cycles all failing: INCONCLUSIVE on m1, and the aw39 run without its whole-space records is not FIXED', function () {
      const failedLoop = { bdf: '0000:00:01.0', cycles: 200, succeededCycles: 0, failedCycles: 200, errors: ['vfio-loop: cycle 1: VFIO_GROUP_SET_CONTAINER: Device or resource busy'], statusBefore: 'active', statusAfter: 'active', dmaWindow: null };
      expectInconclusive(judgeOnFixedBuild(withChanges(m1, { guestLoop: failedLoop })), /successful guest cycles: 200 of 200 failed \(0 succeeded\)/);
      // What the aw39 run would look like had the guest never got its device into the blocking
      // domain: its loop failing every cycle and no whole-space unmap in the trace.
      const noWholeSpace = aw39.trace.lines.filter((l) => !l.includes(' vtd_as_unmap_whole ') && !isLargerThanAnyMapping(l));
      const quiet = withChanges(aw39, { trace: { file: 'present', lines: noWholeSpace }, guestLoop: { ...aw39.guestLoop!, succeededCycles: 0, failedCycles: 27 } });
      expectInconclusive(judgeOnFixedBuild(quiet), /successful guest cycles: 27 of 27 failed \(0 succeeded\)/);
      expectNeverFixed(quiet);
    });

    it('the whole-space unmap the migration failed in, whose record QEMU wrote after the failure: REPRODUCED by when it began (that run said INCONCLUSIVE)', function () {
      expect(afterFailure.about).to.match(/^Real: run 20261203-175022-c6c2 .*m1 \(failed\).*bug-verdict\.json/);
      expect(afterFailure.recordedVerdict!.outcome).to.equal('INCONCLUSIVE');
      const failedAtMs = afterFailure.record!.events.find((e) => e.side === 'source' && e.status === 'failed')!.hostTimestampMs;
      const records = afterFailure.trace.lines.filter((l) => l.includes(' vtd_as_unmap_whole '));
      expect(records[records.length - 2]).to.equal('2026-12-03T17:51:19.205524Z vtd_as_unmap_whole Device 00:01.0 start 0xfef00000 size 0xffff01100000');
      expect(Date.parse('2026-12-03T17:51:19.205524Z')).to.be.greaterThan(failedAtMs);
      const verdict = judge(afterFailure);
      expect(verdict.outcome, verdict.why).to.equal('REPRODUCED');
      expect(verdict.why).to.include('error-desc "vfio_container_dma_unmap(0x55d07a1c6e20, 0x100000000000, 0x100000000000) = -7 (Argument list too long)"');
      expect(verdict.why).to.include('1 vtd_as_unmap_whole inside pre-copy (first: "Device 00:01.0 start 0xfef00000 size 0xffff01100000")');
      // Without the notifications that place its beginning, the record alone is after the failure.
      const recordOnly = afterFailure.trace.lines.filter((l) => !l.includes(' vfio_iommu_map_notify '));
      expectInconclusive(judge(withChanges(afterFailure, { trace: { file: 'present', lines: recordOnly } })), /vtd_as_unmap_whole in the source trace inside pre-copy: none among/);
    });

    it('the E2BIG error-desc without vtd_as_unmap_whole inside pre-copy is not REPRODUCED', function () {
      expectInconclusive(judge(withChanges(m2, { trace: { file: 'present', lines: m2.trace.lines.filter((l) => !l.includes(' vtd_as_unmap_whole ')) } })), /vtd_as_unmap_whole in the source trace inside pre-copy: none among/);
      // The same records, but before MIGRATION active: outside pre-copy, they do not count.
      const early = m2.trace.lines.map((l) => (l.includes(' vtd_as_unmap_whole ') ? l.replace('T11:26:46.', 'T11:26:44.') : l));
      expectInconclusive(judge(withChanges(m2, { trace: { file: 'present', lines: early } })), /vtd_as_unmap_whole in the source trace inside pre-copy: none among/);
    });

    it('an error-desc from another unmap (m2\'s own -12 line) is not this bug', function () {
      const enomem = 'vfio_container_dma_unmap(0x5574a8645e20, 0x800000000000, 0x800000000000) = -12 (Cannot allocate memory)';
      expect(m2.sourceLog.some((l) => l.endsWith(enomem))).to.equal(true);
      const verdict = judge(withChanges(m2, { record: { ...m2.record!, reason: enomem } }));
      expect(verdict.outcome).to.equal('UNEXPECTED');
      expect(verdict.why).to.include('not failed with the E2BIG unmap');
    });

    it('no MIGRATION active event, so no pre-copy window: m2 is not REPRODUCED', function () {
      expectInconclusive(judge(withChanges(m2, { record: { ...m2.record!, events: m2.record!.events.filter((e) => e.status !== 'active') } })), /the pre-copy window/);
    });

    it('the bug on a build with the fix: a regression (UNEXPECTED)', function () {
      const verdict = judge(withChanges(m2, { qemu: fixed.qemu }));
      expect(verdict.outcome).to.equal('UNEXPECTED');
      expect(verdict.why).to.match(/^regression/);
    });
  });

  it('INCONCLUSIVE is reported as a lab ERROR listing what was missing, not a product FAIL', function () {
    const verdict = judge(withChanges(m2, { trace: { file: 'present', lines: [] } }));
    const error = new InconclusiveError(VTD_BLOCKED_DOMAIN_UNMAP.id, verdict.missing, 'expected for this QEMU: unfixed');
    expect(error.code).to.equal('INCONCLUSIVE');
    expect(error.message).to.match(/^Bug vtd-blocked-domain-unmap: the run is inconclusive, the evidence a verdict needs is missing: \(1\) the source trace: .*trace\.log is empty/);
    expect(failureOutcome(error)).to.equal('ERROR');
  });
});
