import { expect } from 'chai';
import { decideVerdict, type BugVerdict } from '../../harness/bugs/decideVerdict.js';
import { InconclusiveError } from '../../harness/bugs/InconclusiveError.js';
import { qemuFixState } from '../../harness/bugs/qemuFixState.js';
import { VTD_BLOCKED_DOMAIN_UNMAP } from '../../harness/bugs/vtdBlockedDomainUnmap.js';
import { failureOutcome } from '../../harness/mocha/HilReporter.js';
import { loadBugFixture, observationOf, qemuOf, withChanges, type BugRunFixture } from './bugFixture.js';

/** The real patch-7 record, judged on a recorded run as `hil run --bug` would judge it. */
function judge(fixture: BugRunFixture): BugVerdict {
  return decideVerdict(VTD_BLOCKED_DOMAIN_UNMAP, qemuFixState(qemuOf(fixture), VTD_BLOCKED_DOMAIN_UNMAP), observationOf(fixture));
}

describe('verdict controls: patch 7 (vtd-blocked-domain-unmap) on recorded runs', function () {
  const nofix = loadBugFixture('patch7-series-nofix');
  const series = loadBugFixture('patch7-series');

  describe('the two builds', function () {
    it('10.2.2 + the series without 0027: REPRODUCED, naming the error-desc, the whole-space unmap in pre-copy and the stderr line', function () {
      const verdict = judge(nofix);
      expect(verdict.outcome).to.equal('REPRODUCED');
      expect(verdict.why).to.include('= -7 (Argument list too long)');
      expect(verdict.why).to.match(/2 vtd_as_unmap_whole inside pre-copy/);
      expect(verdict.why).to.include('stderr "UNMAP: Size of bitmap too big 0x20000000"');
      expect(verdict.why).to.match(/expected for this QEMU: unfixed \(build qemu-series-nofix .* leaves out fix commit cac33cb5533a and applies 0e3c1e2b2b24/);
    });

    it('the same plus 0027: FIXED, naming the switches in pre-copy, the per-mapping UNMAPs and the destination', function () {
      const verdict = judge(series);
      expect(verdict.outcome).to.equal('FIXED');
      expect(verdict.why).to.match(/8 vtd_switch_address_space for 00:03\.0 and 8 context-cache invalidations inside pre-copy for 4 guest cycles/);
      expect(verdict.why).to.match(/5 per-mapping vfio_iommu_map_notify UNMAPs inside pre-copy \(4 of the guest program's window\), none whole-space/);
      expect(verdict.why).to.include('the guest answered on the destination with the same boot id and claimed the device there');
      expect(verdict.why).to.match(/expected for this QEMU: fixed \(build qemu-series .* applies fix commit cac33cb5533a/);
    });
  });

  describe('missing evidence is INCONCLUSIVE, never FIXED', function () {
    const inconclusive = (fixture: BugRunFixture, missing: RegExp) => {
      const verdict = judge(fixture);
      expect(verdict.outcome, verdict.why).to.equal('INCONCLUSIVE');
      expect(verdict.missing.join('\n')).to.match(missing);
    };

    it('an empty trace file', function () {
      inconclusive(withChanges(series, { trace: { file: 'present', lines: [] } }), /trace\.log is empty/);
    });

    it('no trace file at all', function () {
      inconclusive(withChanges(series, { trace: { file: 'missing', lines: [] } }), /trace\.log does not exist/);
    });

    it('a trace with unparseable lines (the absence of vtd_as_unmap_whole proves nothing there)', function () {
      inconclusive(withChanges(series, { trace: { file: 'present', lines: [...series.trace.lines, '4711@1795529889.1', 'vtd_as_unm'] } }), /2 lines of .* could not be parsed/);
    });

    it('a trace of which only the tail was read', function () {
      inconclusive(withChanges(series, { trace: { ...series.trace, sizeBytes: 64 * 1024 * 1024 } }), /only the tail/);
    });

    it('a trace whose records carry no timestamps', function () {
      inconclusive(withChanges(series, { trace: { file: 'present', lines: series.trace.lines.map((l) => l.replace(/^\d+@[\d.]+:/, '')) } }), /none carries a timestamp/);
    });

    it('the guest loop\'s cycles all failed', function () {
      inconclusive(withChanges(series, { guestLoop: { ...series.guestLoop!, succeededCycles: 0, failedCycles: 4, errors: ['vfio-loop: cycle 1: VFIO_GROUP_SET_CONTAINER: Device or resource busy'] } }), /4 of 4 failed \(0 succeeded\)/);
    });

    it('the guest loop never reported, saying why when its hook failed', function () {
      inconclusive(withChanges(series, { guestLoop: null }), /the guest loop: it never reported \(the phase hook did not fire\)/);
      const observation = observationOf(withChanges(series, { guestLoop: null }));
      observation.record!.hooks.push({ name: 'vfio-user-program on the assigned device', phase: 'active for 300 ms', firedAtMs: 1, endedAtMs: 2, error: 'vfio-loop on 0000:00:03.0 did not run (exit 2)' });
      const verdict = decideVerdict(VTD_BLOCKED_DOMAIN_UNMAP, qemuFixState(qemuOf(series), VTD_BLOCKED_DOMAIN_UNMAP), observation);
      expect(verdict.outcome).to.equal('INCONCLUSIVE');
      expect(verdict.missing.join()).to.include('hook "vfio-user-program on the assigned device" failed: vfio-loop on 0000:00:03.0 did not run (exit 2)');
    });

    it('the loop ran, but not inside pre-copy', function () {
      inconclusive(withChanges(series, { guestLoop: { ...series.guestLoop!, statusAfter: 'completed' } }), /the loop inside pre-copy/);
    });

    it('the switches are in the trace, but before pre-copy began', function () {
      const early = series.trace.lines.map((l) => l.replace(/@(\d+)\./, (_m, s: string) => `@${Number(s) - 60}.`));
      inconclusive(withChanges(series, { trace: { file: 'present', lines: early } }), /the domain switches .* 0 vtd_switch_address_space for the device and 0 vtd_inv_desc_cc_\* for 4 guest cycles/);
    });

    it('no per-mapping UNMAP notification of the guest program\'s window', function () {
      inconclusive(withChanges(series, { trace: { file: 'present', lines: series.trace.lines.filter((l) => !l.includes('UNMAP @ 0x10000000')) } }), /none inside the guest program's window 0x10000000/);
    });

    it('nobody looked at the destination', function () {
      inconclusive(withChanges(series, { destination: null }), /nobody looked at the guest on the destination/);
    });

    it('no MIGRATION active event, so no pre-copy window', function () {
      inconclusive(withChanges(series, { record: { ...series.record!, events: series.record!.events.filter((e) => e.status !== 'active') } }), /the pre-copy window/);
    });

    it('the E2BIG error-desc with an empty trace is not REPRODUCED either', function () {
      inconclusive(withChanges(nofix, { trace: { file: 'present', lines: [] } }), /trace\.log is empty/);
    });

    it('the E2BIG error-desc without vtd_as_unmap_whole in pre-copy is not REPRODUCED', function () {
      inconclusive(withChanges(nofix, { trace: { file: 'present', lines: nofix.trace.lines.filter((l) => !l.includes('vtd_as_unmap_whole')) } }), /vtd_as_unmap_whole in the source trace inside pre-copy: none/);
    });
  });

  describe('evidence against the fix is not FIXED', function () {
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

    it('the bug on the build with the fix: a regression (UNEXPECTED)', function () {
      const verdict = judge(withChanges(nofix, { qemu: series.qemu }));
      expect(verdict.outcome).to.equal('UNEXPECTED');
      expect(verdict.why).to.match(/^regression/);
    });
  });

  it('INCONCLUSIVE is reported as a lab ERROR listing what was missing, not a product FAIL', function () {
    const verdict = judge(withChanges(series, { trace: { file: 'present', lines: [] } }));
    const error = new InconclusiveError(VTD_BLOCKED_DOMAIN_UNMAP.id, verdict.missing, 'expected for this QEMU: fixed');
    expect(error.code).to.equal('INCONCLUSIVE');
    expect(error.message).to.match(/^Bug vtd-blocked-domain-unmap: the run is inconclusive, the evidence a verdict needs is missing: \(1\) the source trace: .*trace\.log is empty/);
    expect(failureOutcome(error)).to.equal('ERROR');
  });
});
