import { expect } from 'chai';
import { loadBugFixture, withChanges, type BugRunFixture } from './bugFixture.js';
import { expectInconclusive, expectNeverFixed, isoTraceLine, judge, sourceActiveAtMs, torn } from './patch7Judge.js';

/**
 * Patch 7 on the build with the fix (10.2.2 + the whole series), as CI's nested stage recorded it:
 * the record must say FIXED on that run, from the evidence it names, and must not say FIXED once
 * any of that evidence is taken away or contradicted.
 */
describe('verdict controls: patch 7 (vtd-blocked-domain-unmap) on the real run of the build with the fix', function () {
  // Real: nested lab, 10.2.2 + the series with 0027 (cac33cb5533a), run 20261203-135359-1d24.
  const fixed = loadBugFixture('patch7-series-fixed');
  // Real: the build without the fix, run 20261203-135250-1dce: its identity and its stderr.
  const nofix = loadBugFixture('patch7-nofix-reproduced-2');
  const preCopyAtMs = (offsetMs: number) => sourceActiveAtMs(fixed) + offsetMs;
  const trace = (lines: readonly string[]): Pick<BugRunFixture, 'trace'> => ({ trace: { file: 'present', lines } });

  it('FIXED, naming the switches inside pre-copy, the per-mapping UNMAPs, the clean stderr and the destination', function () {
    const verdict = judge(fixed);
    expect(verdict.outcome, verdict.why).to.equal('FIXED');
    expect(verdict.why).to.include('352 vtd_switch_address_space for 00:01.0 and 16 context-cache invalidations inside pre-copy for 44 guest cycles, all succeeded');
    expect(verdict.why).to.include('258 per-mapping vfio_iommu_map_notify UNMAPs inside pre-copy (256 of the guest program\'s window), none whole-space, no vtd_as_unmap_whole in 658 readable trace records');
    expect(verdict.why).to.include('none of vfio_container_dma_unmap(, UNMAP: Size of bitmap too big, VFIO_UNMAP_DMA with DIRTY_BITMAP on stderr');
    expect(verdict.why).to.include('the guest answered on the destination with the same boot id and claimed the device there (hil-20261203-135359-1d24-dst: boot id 5542c2d7-619d-4e62-894d-1fea6a6796a6; one VFIO claim of 0000:00:01.0: worked)');
    expect(verdict.why).to.match(/expected for this QEMU: fixed \(build qemu-series .* applies fix commit cac33cb5533a and applies 0e3c1e2b2b24/);
  });

  it('the cut gives the verdict the run printed, with only the counts the cut reduced changed', function () {
    // The fixture's "about" says which counts were cut: context-cache invalidations and UNMAPs to
    // the first guest cycle's, and so the number of records; the switch count is the run's own.
    const cut = fixed.recordedVerdict!.why
      .replace('and 704 context-cache invalidations', 'and 16 context-cache invalidations')
      .replace('11352 per-mapping vfio_iommu_map_notify UNMAPs', '258 per-mapping vfio_iommu_map_notify UNMAPs')
      .replace('(11264 of the guest program\'s window)', '(256 of the guest program\'s window)')
      .replace('in 24482 readable trace records', 'in 658 readable trace records');
    expect(fixed.recordedVerdict!.outcome).to.equal('FIXED');
    expect(judge(fixed).why).to.equal(cut);
  });

  it('the whole-space unmaps the fixed build still makes outside migration do not count: only pre-copy is read', function () {
    // Before the migration (dirty tracking off) the fixed build unmaps the whole space as before:
    // the guest's one-cycle claim at boot left 8 vtd_as_unmap_whole, 48-bit ones among them.
    const outside = fixed.trace.lines.filter((l) => l.includes(' vtd_as_unmap_whole '));
    expect(outside).to.have.length(8);
    expect(outside[0]).to.equal('2026-12-03T13:54:47.462255Z vtd_as_unmap_whole Device 00:01.0 start 0xfef00000 size 0xffff01100000');
    expect(judge(fixed).outcome).to.equal('FIXED');
  });

  describe('evidence against the fix: not FIXED', function () {
    it('one of those whole-space unmaps inside pre-copy: UNEXPECTED, naming it', function () {
      const moved = isoTraceLine(preCopyAtMs(2000), 'vtd_as_unmap_whole', 'Device 00:01.0 start 0xfef00000 size 0xffff01100000');
      const withWhole = withChanges(fixed, trace([...fixed.trace.lines, moved]));
      const verdict = judge(withWhole);
      expect(verdict.outcome, verdict.why).to.equal('UNEXPECTED');
      expect(verdict.why).to.include('(1 vtd_as_unmap_whole inside pre-copy (first: "Device 00:01.0 start 0xfef00000 size 0xffff01100000"))');
      expectNeverFixed(withWhole);
    });

    it('a whole-space unmap begun inside pre-copy whose record QEMU wrote after the migration: UNEXPECTED, not FIXED', function () {
      // QEMU writes vtd_as_unmap_whole after its loop of notifications: the unmap is placed by its first one.
      const completedAtMs = fixed.record!.events.find((e) => e.side === 'source' && e.status === 'completed')!.hostTimestampMs;
      const begun = isoTraceLine(preCopyAtMs(2000), 'vfio_iommu_map_notify', 'iommu UNMAP @ 0xfef00000 - 0xfeffffff');
      const record = isoTraceLine(completedAtMs + 50, 'vtd_as_unmap_whole', 'Device 00:01.0 start 0xfef00000 size 0xffff01100000');
      const late = withChanges(fixed, trace([...fixed.trace.lines, begun, record]));
      const verdict = judge(late);
      expect(verdict.outcome, verdict.why).to.equal('UNEXPECTED');
      expect(verdict.why).to.include('(1 vtd_as_unmap_whole inside pre-copy (first: "Device 00:01.0 start 0xfef00000 size 0xffff01100000"))');
      expectNeverFixed(late);
    });

    it('a whole-space UNMAP notification (the unfixed build\'s 16 TiB chunk) inside pre-copy: UNEXPECTED', function () {
      const chunk = isoTraceLine(preCopyAtMs(2000), 'vfio_iommu_map_notify', 'iommu UNMAP @ 0x100000000000 - 0x1fffffffffff');
      const verdict = judge(withChanges(fixed, trace([...fixed.trace.lines, chunk])));
      expect(verdict.outcome).to.equal('UNEXPECTED');
      expect(verdict.why).to.include('1 whole-space UNMAP notifications inside pre-copy (first: "iommu UNMAP @ 0x100000000000 - 0x1fffffffffff")');
    });

    it('the unfixed build\'s stderr line on a completed migration: UNEXPECTED', function () {
      const e2big = nofix.sourceLog.find((l) => l.includes('UNMAP: Size of bitmap too big'))!;
      const verdict = judge(withChanges(fixed, { sourceLog: [...fixed.sourceLog, e2big] }));
      expect(verdict.outcome).to.equal('UNEXPECTED');
      expect(verdict.why).to.include('stderr has "UNMAP: Size of bitmap too big"');
    });

    it('the destination check failed: the guest did not answer, rebooted, or its device is unusable there', function () {
      const silent = judge(withChanges(fixed, { destination: { hasGuestAnswered: false, isSameBoot: null, isDeviceUsable: null, detail: 'hil-20261203-135359-1d24-dst: console did not answer within 30000 ms' } }));
      expect(silent.outcome).to.equal('UNEXPECTED');
      expect(silent.why).to.include('the guest on the destination did not answer');
      const rebooted = judge(withChanges(fixed, { destination: { ...fixed.destination!, isSameBoot: false } }));
      expect(rebooted.outcome).to.equal('UNEXPECTED');
      expect(rebooted.why).to.include('runs a different boot (it rebooted)');
      const unusable = judge(withChanges(fixed, { destination: { ...fixed.destination!, isDeviceUsable: false } }));
      expect(unusable.outcome).to.equal('UNEXPECTED');
      expect(unusable.why).to.include('the device is not usable on the destination');
      for (const destination of [{ ...fixed.destination!, hasGuestAnswered: false }, { ...fixed.destination!, isSameBoot: false }, { ...fixed.destination!, isDeviceUsable: false }]) {
        expectNeverFixed(withChanges(fixed, { destination }));
      }
    });

    it('the same run judged on the build without the fix: UNEXPECTED (a backport?), not FIXED', function () {
      const verdict = judge(withChanges(fixed, { qemu: nofix.qemu }));
      expect(verdict.outcome).to.equal('UNEXPECTED');
      expect(verdict.why).to.include('on a QEMU that should still have the bug (a backport?)');
    });
  });

  describe('each piece of evidence taken away: INCONCLUSIVE, never FIXED', function () {
    const inconclusive = (fixture: BugRunFixture, missing: RegExp) => {
      expectInconclusive(judge(fixture), missing);
      expectNeverFixed(fixture);
    };

    it('the guest loop\'s 44 cycles all failing', function () {
      const failing = { ...fixed.guestLoop!, succeededCycles: 0, failedCycles: 44, errors: ['vfio-loop: cycle 1: VFIO_GROUP_SET_CONTAINER: Device or resource busy'] };
      inconclusive(withChanges(fixed, { guestLoop: failing }), /successful guest cycles: 44 of 44 failed \(0 succeeded\): vfio-loop: cycle 1: VFIO_GROUP_SET_CONTAINER/);
    });

    it('one of the 44 cycles failing', function () {
      inconclusive(withChanges(fixed, { guestLoop: { ...fixed.guestLoop!, succeededCycles: 43, failedCycles: 1 } }), /1 of 44 failed \(43 succeeded\)/);
    });

    it('the guest loop never reported: its hook did not fire, or failed', function () {
      inconclusive(withChanges(fixed, { guestLoop: null }), /the guest loop: it never reported \(the phase hook did not fire\)/);
      const hooks = fixed.record!.hooks!.map((h) => ({ ...h, error: 'guest console of hil-20261203-135359-1d24-src on host-a: /__HIL_B_6300x17__\\r?\\n/ did not appear within 65000 ms.' }));
      inconclusive(withChanges(fixed, { guestLoop: null, record: { ...fixed.record!, hooks } }), /hook "vfio-user-program on the assigned device" failed: guest console of hil-20261203-135359-1d24-src/);
    });

    it('the loop ran, but not inside pre-copy', function () {
      inconclusive(withChanges(fixed, { guestLoop: { ...fixed.guestLoop!, statusAfter: 'completed' } }), /the loop inside pre-copy: the source's status was "active" before it and "completed" after it/);
    });

    it('an empty trace file', function () {
      inconclusive(withChanges(fixed, trace([])), /trace\.log is empty/);
    });

    it('no trace file at all', function () {
      inconclusive(withChanges(fixed, { trace: { file: 'missing', lines: [] } }), /trace\.log does not exist/);
    });

    it('a trace none of whose lines can be read', function () {
      inconclusive(withChanges(fixed, trace(torn(fixed.trace.lines))), /none of the 658 lines of .* is a trace record/);
    });

    it('a trace with unparseable lines (the absence of vtd_as_unmap_whole proves nothing there)', function () {
      inconclusive(withChanges(fixed, trace([...fixed.trace.lines, '2026-12-03T13:54:58.1', 'vtd_as_unm'])), /2 lines of .* could not be parsed/);
    });

    it('a trace of which only the tail was read', function () {
      inconclusive(withChanges(fixed, { trace: { ...fixed.trace, sizeBytes: 64 * 1024 * 1024 } }), /only the tail/);
    });

    it('a trace whose records carry no timestamps', function () {
      inconclusive(withChanges(fixed, trace(fixed.trace.lines.map((l) => l.replace(/^\S+Z /, '')))), /none carries a timestamp/);
    });

    it('the switches in the trace, but all before pre-copy began', function () {
      const early = fixed.trace.lines.map((l) => l.replace(/^2026-12-03T13:5[45]:/, '2026-12-03T13:53:'));
      inconclusive(withChanges(fixed, trace(early)), /0 vtd_switch_address_space for the device and 0 vtd_inv_desc_cc_\* for 44 guest cycles \(at least one per cycle\)/);
    });

    it('fewer switches inside pre-copy than guest cycles: 44 is enough, 43 is not', function () {
      const isSwitchInPreCopy = (l: string) => l.includes(' vtd_switch_address_space ') && Date.parse(`${l.slice(0, 23)}Z`) >= sourceActiveAtMs(fixed);
      const inPreCopy = fixed.trace.lines.filter(isSwitchInPreCopy);
      expect(inPreCopy).to.have.length(352);
      const upTo = (count: number) => fixed.trace.lines.filter((l) => !isSwitchInPreCopy(l) || inPreCopy.indexOf(l) < count);
      expect(judge(withChanges(fixed, trace(upTo(44)))).outcome).to.equal('FIXED');
      inconclusive(withChanges(fixed, trace(upTo(43))), /43 vtd_switch_address_space for the device and 16 vtd_inv_desc_cc_\* for 44 guest cycles/);
    });

    it('no per-mapping UNMAP notification of the guest program\'s window', function () {
      // Left: the cycle's two UNMAPs of 0x0-0x1fff, page-sized but outside the program's 1 MiB at 0x10000000.
      inconclusive(withChanges(fixed, trace(fixed.trace.lines.filter((l) => !/UNMAP @ 0x100[0-9a-f]{5} - /.test(l)))), /vfio_iommu_map_notify shows 2 page-sized UNMAPs, none inside the guest program's window 0x10000000\+1048576/);
    });

    it('nobody looked at the destination, or looked without comparing the boot id', function () {
      inconclusive(withChanges(fixed, { destination: null }), /the destination check: nobody looked at the guest on the destination/);
      inconclusive(withChanges(fixed, { destination: { ...fixed.destination!, isSameBoot: null } }), /the destination check: boot id not compared/);
    });

    it('no MIGRATION active event, so no pre-copy window', function () {
      inconclusive(withChanges(fixed, { record: { ...fixed.record!, events: fixed.record!.events.filter((e) => e.status !== 'active') } }), /the pre-copy window/);
    });
  });

  describe('synthetic: the same evidence in the pid@seconds trace format, which no recorded run used', function () {
    const synthetic = loadBugFixture('patch7-series-synthetic-fixed');

    it('the fixture says it is synthetic and why it is kept', function () {
      expect(synthetic.about).to.match(/^synthetic: written by hand, kept for the one case no recorded run shows: a trace in QEMU's pid@seconds format/);
      expect(synthetic.trace.lines.every((l) => /^\d+@\d+\.\d{6}:/.test(l))).to.equal(true);
    });

    it('FIXED, naming the switches in pre-copy, the per-mapping UNMAPs and the destination', function () {
      const verdict = judge(synthetic);
      expect(verdict.outcome).to.equal('FIXED');
      expect(verdict.why).to.match(/8 vtd_switch_address_space for 00:03\.0 and 8 context-cache invalidations inside pre-copy for 4 guest cycles/);
      expect(verdict.why).to.match(/5 per-mapping vfio_iommu_map_notify UNMAPs inside pre-copy \(4 of the guest program's window\), none whole-space/);
      expect(verdict.why).to.include('the guest answered on the destination with the same boot id and claimed the device there');
      expect(verdict.why).to.match(/expected for this QEMU: fixed \(build qemu-series .* applies fix commit cac33cb5533a/);
    });

    it('its records without the pid@seconds stamp, or with unparseable lines: INCONCLUSIVE', function () {
      expectInconclusive(judge(withChanges(synthetic, trace(synthetic.trace.lines.map((l) => l.replace(/^\d+@[\d.]+:/, ''))))), /none carries a timestamp/);
      expectInconclusive(judge(withChanges(synthetic, trace([...synthetic.trace.lines, '4711@1795529889.1', 'vtd_as_unm']))), /2 lines of .* could not be parsed/);
    });
  });
});
