import { selectTraceLines } from '../qemu/parseTraceLog.js';
import { notShown, shown, unproven, type BugObservation, type BugReproduction, type BugSignature, type SignatureMatch } from './BugReproduction.js';
import { completedPathSignature, guestLoopGaps, preCopyWindow, switchGaps, traceGaps, type Window } from './pathEvidence.js';
import { hexField } from './traceFields.js';
import { wholeSpaceUnmapsBegunIn } from './wholeSpaceUnmaps.js';
import { VIOMMU_MIGRATION_COMMIT } from './vtdBlockedDomainUnmap.js';

const VIOMMU_BLOCKER: BugSignature = {
  description: 'the pre-series vIOMMU blocker ("Migration is currently not supported with vIOMMU enabled")',
  match: (o) => {
    const text = [o.startError ?? '', ...o.blockedReasons].find((t) => t.includes('not supported with vIOMMU enabled'));
    return text === undefined ? notShown('no vIOMMU blocker in the start error or blocked-reasons') : shown(text.trim().slice(0, 300));
  },
};

/**
 * A signature made of trace records inside pre-copy: `read` counts them and says whether they
 * show it; without a readable trace or a known window, a signature not seen is unproven, not absent.
 * `needsAbsence`: the signature rests on a record NOT being there, so the trace must be whole and
 * the guest loop must have run every cycle inside pre-copy.
 */
function traceSignature(o: BugObservation, needsAbsence: boolean, read: (window: Window) => { readonly isShown: boolean; readonly text: string }): SignatureMatch {
  const pre = preCopyWindow(o);
  if ('missing' in pre) return unproven([pre.missing, ...traceGaps(o, 'presence')]);
  const seen = read(pre.window);
  if (!seen.isShown) {
    const gaps = traceGaps(o, 'presence');
    return gaps.length > 0 ? unproven(gaps) : notShown(seen.text);
  }
  const gaps = needsAbsence ? [...traceGaps(o, 'absence'), ...guestLoopGaps(o), ...switchGaps(o, pre.window)] : [];
  return gaps.length > 0 ? unproven(gaps) : shown(seen.text);
}

function inWindow(o: BugObservation, pattern: string, window: Window) {
  return selectTraceLines(o.sourceTrace, pattern, window);
}

/**
 * Scenario C1 (brief §7 C): patch 7's bug on the IOMMUFD backend. The whole-space UNMAP carries
 * translated_addr = 0, so the dirty bits of the unmapped range land at GPA 0: migration completes
 * while pages are lost — silent, hence the trace-level signature.
 */
export const VTD_BLOCKED_DOMAIN_IOMMUFD: BugReproduction = {
  id: 'vtd-blocked-domain-iommufd-gpa0',
  title: 'C1: guest switches its VFIO device to the blocking domain during migration (IOMMUFD, IOMMU HW dirty tracking, intel-iommu) — the whole-space unmap queries dirty bits at gpa=0x0',
  references: {
    lore: [
      '<20251029095354.56305-8-zhenzhong.duan@intel.com> [PATCH v4 07/10] intel_iommu: Fix unmap_bitmap failure with legacy VFIO backend',
      'https://lore.kernel.org/qemu-devel/20251218062643.624796-7-zhenzhong.duan@intel.com (v6: the whole-space UNMAP has translated_addr = 0, "breaks dirty tracking no matter which VFIO backend is used")',
      '<20260113093637.1549214-28-clg@redhat.com> [PULL 27/41]',
    ],
    fixCommits: ['cac33cb5533a'],
    reachableWith: [VIOMMU_MIGRATION_COMMIT],
  },
  needs: ['vfio', 'iommufd', 'iommu-dirty-tracking', 'viommu'],
  suite: 'suites/blocked-domain/host-vfio.spec.ts',
  reachableFrom: { version: '11.0', why: 'before the series every vIOMMU blocks VFIO migration (brief §2.3 rule 5)', signature: VIOMMU_BLOCKER },
  fixedIn: { kind: 'release', version: '11.0', note: 'cac33cb5533a (pull-vfio-20260113), QEMU 11.0 cycle' },
  before: {
    description: 'a whole-space unmap during pre-copy with dirty-bitmap queries at gpa=0x0',
    match: (o) => traceSignature(o, false, (w) => {
      const whole = wholeSpaceUnmapsBegunIn(o.sourceTrace, w).length;
      const zero = inWindow(o, 'vfio_container_query_dirty_bitmap', w).filter((l) => hexField(l, 'gpa') === 0n).length;
      return { isShown: whole > 0 && zero > 0, text: `${whole} vtd_as_unmap_whole and ${zero} vfio_container_query_dirty_bitmap gpa=0x0 during pre-copy (outcome ${o.record?.outcome ?? 'none'})` };
    }),
  },
  after: {
    description: 'completed; every guest cycle seen switching inside pre-copy; per-mapping unmaps with real GPAs, NO_CLEAR bitmap queries, no whole-space unmap; the guest alive on the destination',
    match: (o) => completedPathSignature(o, (w) => {
      const whole = wholeSpaceUnmapsBegunIn(o.sourceTrace, w).length;
      const zero = inWindow(o, 'vfio_container_query_dirty_bitmap', w).filter((l) => hexField(l, 'gpa') === 0n).length;
      const noClear = inWindow(o, 'iommufd_backend_get_dirty_bitmap', w).filter((l) => /flags=0x1\b/.test(l.args)).length;
      if (whole > 0 || zero > 0) return { contradiction: `${whole} vtd_as_unmap_whole and ${zero} gpa=0x0 dirty queries during pre-copy`, missing: null, text: '' };
      return { contradiction: null, missing: noClear === 0 ? 'iommufd_backend_get_dirty_bitmap flags=0x1 (NO_CLEAR) inside pre-copy: none' : null, text: `${noClear} iommufd_backend_get_dirty_bitmap flags=0x1 (NO_CLEAR), no gpa=0x0 query, no vtd_as_unmap_whole during pre-copy` };
    }),
  },
};

/**
 * Scenario C3: the companion listener patch (6e360c06176c). A device going from the identity
 * (PT) domain to the blocking domain unmaps guest RAM through vfio_listener_region_del with no
 * iotlb, so no dirty query happens for it; with the fix the query is made with iova == gpa.
 */
export const VFIO_LISTENER_PT_TO_BLOCKED: BugReproduction = {
  id: 'vfio-listener-pt-to-blocked',
  title: 'C3: guest (iommu=pt) moves its VFIO device identity → blocked during migration (legacy, enable-migration=on, intel-iommu) — region_del must query the dirty bitmap (iova == gpa)',
  references: {
    lore: [
      '<20260113093637.1549214-29-clg@redhat.com> [PULL 28/41] vfio/listener: Add missing dirty tracking in region_del',
      'v5 7/9 thread: "VTD doesn\'t support switching from DMA domain to PT atomically, so switches to block domain in between"',
    ],
    fixCommits: ['6e360c06176c'],
    reachableWith: [VIOMMU_MIGRATION_COMMIT],
  },
  needs: ['vfio', 'viommu'],
  suite: 'suites/blocked-domain/host-vfio.spec.ts',
  reachableFrom: { version: '11.0', why: 'before the series every vIOMMU blocks VFIO migration; with enable-migration=on that is a realize error (brief §2.3)', signature: VIOMMU_BLOCKER },
  fixedIn: { kind: 'release', version: '11.0', note: '6e360c06176c (pull-vfio-20260113), QEMU 11.0 cycle' },
  before: {
    description: 'identity ↔ translated switches and RAM region_del during pre-copy with no identity dirty query',
    match: (o) => {
      const identity = (w: Window) => inWindow(o, 'vfio_container_query_dirty_bitmap', w).filter((l) => hexField(l, 'iova') !== null && hexField(l, 'iova') === hexField(l, 'gpa')).length;
      return traceSignature(o, true, (w) => {
        const switches = inWindow(o, 'vtd_switch_address_space', w).length;
        const dels = inWindow(o, 'vfio_listener_region_del*', w).length;
        const queries = identity(w);
        return { isShown: switches > 0 && dels > 0 && queries === 0, text: `${switches} vtd_switch_address_space and ${dels} region_del during pre-copy, ${queries} dirty queries with iova == gpa` };
      });
    },
  },
  after: {
    description: 'completed; every guest cycle seen switching inside pre-copy; dirty queries with iova == gpa at the identity → blocked switches; the guest alive on the destination',
    match: (o) => completedPathSignature(o, (w) => {
      const identity = inWindow(o, 'vfio_container_query_dirty_bitmap', w).filter((l) => hexField(l, 'iova') !== null && hexField(l, 'iova') === hexField(l, 'gpa')).length;
      return { contradiction: null, missing: identity === 0 ? 'vfio_container_query_dirty_bitmap with iova == gpa inside pre-copy: none' : null, text: `${identity} dirty queries with iova == gpa during pre-copy` };
    }),
  },
};
