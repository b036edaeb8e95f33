import { selectTraceLines } from '../qemu/parseTraceLog.js';
import type { BugObservation, BugReproduction, BugSignature } from './BugReproduction.js';
import { sourceActiveWindow } from './sourceActiveWindow.js';
import { hexField } from './traceFields.js';

const VIOMMU_BLOCKER: BugSignature = {
  description: 'the pre-series vIOMMU blocker ("Migration is currently not supported with vIOMMU enabled")',
  evidence: (o) => [o.startError ?? '', ...o.blockedReasons].find((t) => t.includes('not supported with vIOMMU enabled'))?.trim().slice(0, 300) ?? null,
};

function inPreCopy(o: BugObservation, pattern: string) {
  return o.record === null ? [] : selectTraceLines(o.sourceTrace, pattern, sourceActiveWindow(o.record));
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
  },
  needs: ['vfio', 'iommufd', 'iommu-dirty-tracking', 'viommu'],
  suite: 'suites/blocked-domain/host-vfio.spec.ts',
  reachableFrom: { version: '11.0', why: 'before the series every vIOMMU blocks VFIO migration (brief §2.3 rule 5)', signature: VIOMMU_BLOCKER },
  fixedIn: { kind: 'release', version: '11.0', note: 'cac33cb5533a (pull-vfio-20260113), QEMU 11.0 cycle' },
  before: {
    description: 'a whole-space unmap during pre-copy with dirty-bitmap queries at gpa=0x0',
    evidence: (o) => {
      const whole = inPreCopy(o, 'vtd_as_unmap_whole').length;
      const zero = inPreCopy(o, 'vfio_container_query_dirty_bitmap').filter((l) => hexField(l, 'gpa') === 0n).length;
      return whole > 0 && zero > 0 ? `${whole} vtd_as_unmap_whole and ${zero} vfio_container_query_dirty_bitmap gpa=0x0 during pre-copy (outcome ${o.record?.outcome ?? 'none'})` : null;
    },
  },
  after: {
    description: 'completed; per-mapping unmaps with real GPAs, NO_CLEAR bitmap queries, no whole-space unmap during pre-copy',
    evidence: (o) => {
      if (o.record?.outcome !== 'completed') return null;
      const whole = inPreCopy(o, 'vtd_as_unmap_whole').length;
      const zero = inPreCopy(o, 'vfio_container_query_dirty_bitmap').filter((l) => hexField(l, 'gpa') === 0n).length;
      const noClear = inPreCopy(o, 'iommufd_backend_get_dirty_bitmap').filter((l) => /flags=0x1\b/.test(l.args)).length;
      return whole === 0 && zero === 0 && noClear > 0 ? `completed; ${noClear} iommufd_backend_get_dirty_bitmap flags=0x1 (NO_CLEAR), no gpa=0x0 query, no vtd_as_unmap_whole during pre-copy` : null;
    },
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
  },
  needs: ['vfio', 'viommu'],
  suite: 'suites/blocked-domain/host-vfio.spec.ts',
  reachableFrom: { version: '11.0', why: 'before the series every vIOMMU blocks VFIO migration; with enable-migration=on that is a realize error (brief §2.3)', signature: VIOMMU_BLOCKER },
  fixedIn: { kind: 'release', version: '11.0', note: '6e360c06176c (pull-vfio-20260113), QEMU 11.0 cycle' },
  before: {
    description: 'identity ↔ translated switches and RAM region_del during pre-copy with no identity dirty query',
    evidence: (o) => {
      const switches = inPreCopy(o, 'vtd_switch_address_space').length;
      const dels = inPreCopy(o, 'vfio_listener_region_del*').length;
      const identity = inPreCopy(o, 'vfio_container_query_dirty_bitmap').filter((l) => hexField(l, 'iova') !== null && hexField(l, 'iova') === hexField(l, 'gpa')).length;
      return switches > 0 && dels > 0 && identity === 0 ? `${switches} vtd_switch_address_space and ${dels} region_del during pre-copy, no dirty query with iova == gpa` : null;
    },
  },
  after: {
    description: 'completed; dirty queries with iova == gpa at the identity → blocked switches',
    evidence: (o) => {
      if (o.record?.outcome !== 'completed') return null;
      const switches = inPreCopy(o, 'vtd_switch_address_space').length;
      const identity = inPreCopy(o, 'vfio_container_query_dirty_bitmap').filter((l) => hexField(l, 'iova') !== null && hexField(l, 'iova') === hexField(l, 'gpa')).length;
      return switches > 0 && identity > 0 ? `completed; ${switches} vtd_switch_address_space, ${identity} dirty queries with iova == gpa during pre-copy` : null;
    },
  },
};
