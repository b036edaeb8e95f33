import { expect } from 'chai';
import { VFIO_LISTENER_PT_TO_BLOCKED, VTD_BLOCKED_DOMAIN_IOMMUFD } from '../../harness/bugs/blockedDomainCompanions.js';
import type { BugReproduction } from '../../harness/bugs/BugReproduction.js';
import { decideVerdict, type BugVerdict } from '../../harness/bugs/decideVerdict.js';
import { TYPE1_NOT_IOMMU_DIRTY_TRACKING } from '../../harness/bugs/type1NotIommuDirtyTracking.js';
import { loadBugFixture, observationOf, withChanges, type BugRunFixture } from './bugFixture.js';
import { isoTraceLine, sourceActiveAtMs } from './patch7Judge.js';

/**
 * The companion records (C1 IOMMUFD, C3 listener) and the patch-8 record hold the same rule as
 * patch 7: no verdict from absence. Their runs share patch 7's scenario, so the controls start
 * from its real run on the build with the fix (legacy backend, guest in a DMA domain) and add
 * the records each companion reads that this run could not show (IOMMUFD queries, identity
 * switches), and the real completed run whose guest loop never ran must not be FIXED for any of them.
 */
const fixed = { state: 'fixed' as const, why: 'the build carries the fix' };
const unfixed = { state: 'unfixed' as const, why: 'the build lacks the fix' };
const judge = (bug: BugReproduction, fixture: BugRunFixture, fix: typeof fixed | typeof unfixed = fixed): BugVerdict => decideVerdict(bug, fix, observationOf(fixture));

describe('verdict controls: the blocked-domain companions and the patch-8 record', function () {
  const series = loadBugFixture('patch7-series-fixed');
  /** A record in the run's own trace format, offsetMs after its source MIGRATION active (inside pre-copy up to ~9.9 s). */
  const at = (offsetMs: number, event: string, args: string) => isoTraceLine(sourceActiveAtMs(series) + offsetMs, event, args);

  it('the real completed run whose guest loop never ran (patch-7 nofix m1): INCONCLUSIVE for C1 and C3, never FIXED', function () {
    const m1 = loadBugFixture('patch7-nofix-m1-no-switch');
    for (const bug of [VTD_BLOCKED_DOMAIN_IOMMUFD, VFIO_LISTENER_PT_TO_BLOCKED]) {
      const verdict = judge(bug, m1);
      expect(verdict.outcome, `${bug.id}: ${verdict.why}`).to.equal('INCONCLUSIVE');
      expect(verdict.missing.join('\n')).to.include('the guest loop: it never reported (hook "vfio-user-program on the assigned device" failed');
    }
  });

  describe('C1 (IOMMUFD, gpa=0x0)', function () {
    const c1Fixed = withChanges(series, { trace: { file: 'present', lines: [...series.trace.lines, at(2000, 'iommufd_backend_get_dirty_bitmap', 'iommufd=12 hwpt=3 iova=0x10000000 size=0x100000 flags=0x1 page_size=0x1000 (0)')] } });

    it('FIXED on a run with the NO_CLEAR queries, every switch in pre-copy and the destination alive', function () {
      const verdict = judge(VTD_BLOCKED_DOMAIN_IOMMUFD, c1Fixed);
      expect(verdict.outcome, verdict.why).to.equal('FIXED');
      expect(verdict.why).to.include('1 iommufd_backend_get_dirty_bitmap flags=0x1');
    });

    it('INCONCLUSIVE on an empty trace, and on a run whose guest cycles all failed', function () {
      expect(judge(VTD_BLOCKED_DOMAIN_IOMMUFD, withChanges(c1Fixed, { trace: { file: 'present', lines: [] } })).outcome).to.equal('INCONCLUSIVE');
      expect(judge(VTD_BLOCKED_DOMAIN_IOMMUFD, withChanges(c1Fixed, { guestLoop: { ...c1Fixed.guestLoop!, succeededCycles: 0, failedCycles: c1Fixed.guestLoop!.cycles } })).outcome).to.equal('INCONCLUSIVE');
    });

    it('INCONCLUSIVE without a NO_CLEAR query (the fixed path not shown), UNEXPECTED with a gpa=0x0 query', function () {
      const none = judge(VTD_BLOCKED_DOMAIN_IOMMUFD, series);
      expect(none.outcome).to.equal('INCONCLUSIVE');
      expect(none.missing.join()).to.include('flags=0x1 (NO_CLEAR) inside pre-copy: none');
      const zero = withChanges(c1Fixed, { trace: { file: 'present', lines: [...c1Fixed.trace.lines, at(2100, 'vfio_container_query_dirty_bitmap', 'iova=0x0 size=0x100000000000 backend_flag=0x0 bitmap_size=0x20000000 gpa=0x0 dirty_pages=12')] } });
      expect(judge(VTD_BLOCKED_DOMAIN_IOMMUFD, zero).outcome).to.equal('UNEXPECTED');
    });
  });

  describe('C3 (listener, identity → blocked)', function () {
    const switchesAndDels = [
      ...series.trace.lines,
      at(1500, 'vtd_switch_address_space', 'Device 00:01.0 switching address space (iommu enabled=0)'),
      at(1501, 'vfio_listener_region_del', 'region_del 0x0 - 0x7fffffff'),
    ];

    it('REPRODUCED only on a whole, readable trace with every cycle done: "no identity query" is an absence', function () {
      const bug = withChanges(series, { trace: { file: 'present', lines: switchesAndDels } });
      expect(judge(VFIO_LISTENER_PT_TO_BLOCKED, bug, unfixed).outcome).to.equal('REPRODUCED');
      const truncated = withChanges(bug, { trace: { ...bug.trace, sizeBytes: 64 * 1024 * 1024 } });
      expect(judge(VFIO_LISTENER_PT_TO_BLOCKED, truncated, unfixed).outcome).to.equal('INCONCLUSIVE');
      const damaged = withChanges(bug, { trace: { file: 'present', lines: [...switchesAndDels, 'vfio_container_query_dirty_b'] } });
      expect(judge(VFIO_LISTENER_PT_TO_BLOCKED, damaged, unfixed).outcome).to.equal('INCONCLUSIVE');
      const failedLoop = withChanges(bug, { guestLoop: { ...bug.guestLoop!, succeededCycles: bug.guestLoop!.cycles - 3, failedCycles: 3 } });
      expect(judge(VFIO_LISTENER_PT_TO_BLOCKED, failedLoop, unfixed).outcome).to.equal('INCONCLUSIVE');
    });

    it('FIXED with identity queries and the destination alive; INCONCLUSIVE when nobody looked at the destination', function () {
      const fixedRun = withChanges(series, { trace: { file: 'present', lines: [...switchesAndDels, at(1502, 'vfio_container_query_dirty_bitmap', 'iova=0x100000 size=0x7ff00000 backend_flag=0x0 bitmap_size=0x10000 gpa=0x100000 dirty_pages=3')] } });
      expect(judge(VFIO_LISTENER_PT_TO_BLOCKED, fixedRun).outcome).to.equal('FIXED');
      expect(judge(VFIO_LISTENER_PT_TO_BLOCKED, withChanges(fixedRun, { destination: null })).outcome).to.equal('INCONCLUSIVE');
    });
  });

  describe('patch 8 (type1 dirty tracking is not IOMMU dirty tracking)', function () {
    it('"no blocker" is REPRODUCED only when the migration is seen running with the device\'s state; else INCONCLUSIVE', function () {
      const accepted = withChanges(series, { trace: { file: 'missing', lines: [] } });
      const verdict = judge(TYPE1_NOT_IOMMU_DIRTY_TRACKING, accepted, unfixed);
      expect(verdict.outcome).to.equal('REPRODUCED');
      expect(verdict.why).to.include('source MIGRATION active, outcome completed, 96 B of VFIO state');
      const neverActive = withChanges(accepted, { record: { ...accepted.record!, events: accepted.record!.events.filter((e) => e.status !== 'active') } });
      expect(judge(TYPE1_NOT_IOMMU_DIRTY_TRACKING, neverActive, unfixed).outcome).to.equal('INCONCLUSIVE');
      const { vfioBytes: _vfioBytes, ...withoutDeviceState } = accepted.record!.measurements;
      for (const measurements of [withoutDeviceState, { ...accepted.record!.measurements, vfioBytes: 0 }]) {
        const noDeviceState = withChanges(accepted, { record: { ...accepted.record!, measurements } });
        expect(judge(TYPE1_NOT_IOMMU_DIRTY_TRACKING, noDeviceState, unfixed).missing.join()).to.include('vfioBytes is 0 or absent');
      }
    });
  });
});
