import { expect } from 'chai';
import { decideVerdict, type BugVerdict } from '../../harness/bugs/decideVerdict.js';
import { InconclusiveError } from '../../harness/bugs/InconclusiveError.js';
import { qemuFixState, type FixState } from '../../harness/bugs/qemuFixState.js';
import { VTD_BLOCKED_DOMAIN_UNMAP } from '../../harness/bugs/vtdBlockedDomainUnmap.js';
import { failureOutcome } from '../../harness/mocha/HilReporter.js';
import { loadBugFixture, observationOf, qemuOf, withChanges, type BugRunFixture } from './bugFixture.js';

/** The real patch-7 record, judged on a recorded run as `hil run --bug` would judge it. */
function judge(fixture: BugRunFixture): BugVerdict {
  return decideVerdict(VTD_BLOCKED_DOMAIN_UNMAP, qemuFixState(qemuOf(fixture), VTD_BLOCKED_DOMAIN_UNMAP), observationOf(fixture));
}

/** The same observation judged as if it came from a build that carries the fix: where FIXED from absence would show. */
const ON_A_FIXED_BUILD: FixState = { state: 'fixed', why: 'judged as if the build carried the fix' };
function judgeOnFixedBuild(fixture: BugRunFixture): BugVerdict {
  return decideVerdict(VTD_BLOCKED_DOMAIN_UNMAP, ON_A_FIXED_BUILD, observationOf(fixture));
}

/** Never FIXED, on the build it ran on or on one with the fix: the fix's signature is not shown. */
function expectNeverFixed(fixture: BugRunFixture): void {
  expect(VTD_BLOCKED_DOMAIN_UNMAP.after.match(observationOf(fixture)).kind).to.not.equal('shown');
  expect(judge(fixture).outcome).to.not.equal('FIXED');
  expect(judgeOnFixedBuild(fixture).outcome).to.not.equal('FIXED');
}

function expectInconclusive(verdict: BugVerdict, missing: RegExp): void {
  expect(verdict.outcome, verdict.why).to.equal('INCONCLUSIVE');
  expect(verdict.missing.join('\n')).to.match(missing);
}

/** A vfio_iommu_map_notify UNMAP above 1 GiB: a chunk of a whole-space unmap. */
function isLargerThanAnyMapping(line: string): boolean {
  const range = /UNMAP @ (0x[0-9a-f]+) - (0x[0-9a-f]+)$/.exec(line);
  return range !== null && BigInt(range[2]!) - BigInt(range[1]!) + 1n > 1n << 30n;
}

/** Every trace line cut inside its event name: a file of lines none of which can be read. */
const torn = (lines: readonly string[]): string[] => lines.map((l) => l.slice(0, 35));

describe('verdict controls: patch 7 (vtd-blocked-domain-unmap) on recorded runs', function () {
  // Real: nested lab, 10.2.2 + the series without 0027 (cac33cb5533a), run 20261203-112408-d3f7.
  const m2 = loadBugFixture('patch7-nofix-m2-reproduced');
  const m1 = loadBugFixture('patch7-nofix-m1-no-switch');
  // Real: the same build with intel-iommu aw-bits=39, run 20261203-110320-6585.
  const aw39 = loadBugFixture('patch7-nofix-aw39-control');
  // Synthetic: no run of the build with the fix has been recorded yet.
  const syntheticFixed = loadBugFixture('patch7-series-synthetic-fixed');

  it('each fixture says where it came from: real runs name their run, the FIXED one says it is synthetic', function () {
    expect(m2.about).to.match(/^Real: run 20261203-112408-d3f7 .*m2\.migration\.json/);
    expect(m1.about).to.match(/^Real: run 20261203-112408-d3f7 .*m1\.migration\.json/);
    expect(aw39.about).to.match(/^Real: run 20261203-110320-6585 .*--viommu-aw-bits 39/);
    expect(syntheticFixed.about).to.match(/^synthetic: no real FIXED run recorded yet/);
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
      const verdict = judge(withChanges(m2, { qemu: syntheticFixed.qemu }));
      expect(verdict.outcome).to.equal('UNEXPECTED');
      expect(verdict.why).to.match(/^regression/);
    });
  });

  describe('the synthetic FIXED fixture (no real FIXED run recorded yet)', function () {
    it('FIXED, naming the switches in pre-copy, the per-mapping UNMAPs and the destination', function () {
      const verdict = judge(syntheticFixed);
      expect(verdict.outcome).to.equal('FIXED');
      expect(verdict.why).to.match(/8 vtd_switch_address_space for 00:03\.0 and 8 context-cache invalidations inside pre-copy for 4 guest cycles/);
      expect(verdict.why).to.match(/5 per-mapping vfio_iommu_map_notify UNMAPs inside pre-copy \(4 of the guest program's window\), none whole-space/);
      expect(verdict.why).to.include('the guest answered on the destination with the same boot id and claimed the device there');
      expect(verdict.why).to.match(/expected for this QEMU: fixed \(build qemu-series .* applies fix commit cac33cb5533a/);
    });

    describe('each piece of evidence taken away: INCONCLUSIVE, never FIXED', function () {
      const series = syntheticFixed;

      it('an empty trace file', function () {
        expectInconclusive(judge(withChanges(series, { trace: { file: 'present', lines: [] } })), /trace\.log is empty/);
      });

      it('no trace file at all', function () {
        expectInconclusive(judge(withChanges(series, { trace: { file: 'missing', lines: [] } })), /trace\.log does not exist/);
      });

      it('a trace with unparseable lines (the absence of vtd_as_unmap_whole proves nothing there)', function () {
        expectInconclusive(judge(withChanges(series, { trace: { file: 'present', lines: [...series.trace.lines, '4711@1795529889.1', 'vtd_as_unm'] } })), /2 lines of .* could not be parsed/);
      });

      it('a trace of which only the tail was read', function () {
        expectInconclusive(judge(withChanges(series, { trace: { ...series.trace, sizeBytes: 64 * 1024 * 1024 } })), /only the tail/);
      });

      it('a trace whose records carry no timestamps', function () {
        expectInconclusive(judge(withChanges(series, { trace: { file: 'present', lines: series.trace.lines.map((l) => l.replace(/^\d+@[\d.]+:/, '')) } })), /none carries a timestamp/);
      });

      it('the guest loop\'s cycles all failed', function () {
        expectInconclusive(judge(withChanges(series, { guestLoop: { ...series.guestLoop!, succeededCycles: 0, failedCycles: 4, errors: ['vfio-loop: cycle 1: VFIO_GROUP_SET_CONTAINER: Device or resource busy'] } })), /4 of 4 failed \(0 succeeded\)/);
      });

      it('the guest loop never reported, saying why when its hook failed', function () {
        expectInconclusive(judge(withChanges(series, { guestLoop: null })), /the guest loop: it never reported \(the phase hook did not fire\)/);
        const observation = observationOf(withChanges(series, { guestLoop: null }));
        observation.record!.hooks.push({ name: 'vfio-user-program on the assigned device', phase: 'active for 300 ms', firedAtMs: 1, endedAtMs: 2, error: 'vfio-loop on 0000:00:03.0 did not run (exit 2)' });
        const verdict = decideVerdict(VTD_BLOCKED_DOMAIN_UNMAP, qemuFixState(qemuOf(series), VTD_BLOCKED_DOMAIN_UNMAP), observation);
        expect(verdict.outcome).to.equal('INCONCLUSIVE');
        expect(verdict.missing.join()).to.include('hook "vfio-user-program on the assigned device" failed: vfio-loop on 0000:00:03.0 did not run (exit 2)');
      });

      it('the loop ran, but not inside pre-copy', function () {
        expectInconclusive(judge(withChanges(series, { guestLoop: { ...series.guestLoop!, statusAfter: 'completed' } })), /the loop inside pre-copy/);
      });

      it('the switches are in the trace, but before pre-copy began', function () {
        const early = series.trace.lines.map((l) => l.replace(/@(\d+)\./, (_m, s: string) => `@${Number(s) - 60}.`));
        expectInconclusive(judge(withChanges(series, { trace: { file: 'present', lines: early } })), /the domain switches .* 0 vtd_switch_address_space for the device and 0 vtd_inv_desc_cc_\* for 4 guest cycles/);
      });

      it('no per-mapping UNMAP notification of the guest program\'s window', function () {
        expectInconclusive(judge(withChanges(series, { trace: { file: 'present', lines: series.trace.lines.filter((l) => !l.includes('UNMAP @ 0x10000000')) } })), /none inside the guest program's window 0x10000000/);
      });

      it('nobody looked at the destination', function () {
        expectInconclusive(judge(withChanges(series, { destination: null })), /nobody looked at the guest on the destination/);
      });

      it('no MIGRATION active event, so no pre-copy window', function () {
        expectInconclusive(judge(withChanges(series, { record: { ...series.record!, events: series.record!.events.filter((e) => e.status !== 'active') } })), /the pre-copy window/);
      });
    });

    describe('evidence against the fix is not FIXED', function () {
      const series = syntheticFixed;

      it('the destination guest never answered: UNEXPECTED on a fixed build', function () {
        const verdict = judge(withChanges(series, { destination: { hasGuestAnswered: false, isSameBoot: null, isDeviceUsable: null, detail: 'Timed out after 30000 ms waiting for the shell' } }));
        expect(verdict.outcome).to.equal('UNEXPECTED');
        expect(verdict.why).to.include('the guest on the destination did not answer');
      });

      it('the guest rebooted on the way, or its device is unusable there: UNEXPECTED', function () {
        expect(judge(withChanges(series, { destination: { ...series.destination!, isSameBoot: false } })).outcome).to.equal('UNEXPECTED');
        expect(judge(withChanges(series, { destination: { ...series.destination!, isDeviceUsable: false } })).outcome).to.equal('UNEXPECTED');
      });

      it('a whole-space unmap inside pre-copy on a completed migration: UNEXPECTED, not FIXED', function () {
        const lines = [...series.trace.lines, '4711@1795529885.000000:vtd_as_unmap_whole Device 00:03.0 start 0x0 size 0x8000000000'];
        const verdict = judge(withChanges(series, { trace: { file: 'present', lines } }));
        expect(verdict.outcome).to.equal('UNEXPECTED');
        expect(verdict.why).to.include('1 vtd_as_unmap_whole inside pre-copy');
      });
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
