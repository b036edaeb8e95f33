import { selectTraceLines } from '../qemu/parseTraceLog.js';
import type { BugObservation, BugReproduction } from './BugReproduction.js';
import { sourceActiveWindow } from './sourceActiveWindow.js';

/** brief §4.3: the legacy unmap-bitmap failures, in error-desc or on stderr. */
const UNMAP_ERRORS = ['vfio_container_dma_unmap(', 'UNMAP: Size of bitmap too big', 'VFIO_UNMAP_DMA with DIRTY_BITMAP'];

function unmapWholeDuringPreCopy(observation: BugObservation): number {
  if (observation.record === null) return 0;
  return selectTraceLines(observation.sourceTrace, 'vtd_as_unmap_whole', sourceActiveWindow(observation.record)).length;
}

/**
 * Patch 7 of "vfio: relax the vIOMMU check" (brief §1.3, scenario C2): a guest moves its VFIO
 * device from a DMA domain to the blocking domain while migration runs; the emulated VT-d unmaps
 * the whole IOVA space in huge chunks, and the legacy backend's dirty-bitmap unmap fails with
 * E2BIG, failing the migration.
 */
export const VTD_BLOCKED_DOMAIN_UNMAP: BugReproduction = {
  id: 'vtd-blocked-domain-unmap',
  title: 'patch 7: guest switches its VFIO device to the blocking domain during migration (legacy, enable-migration=on, intel-iommu) — unmap of the whole IOVA space fails with E2BIG',
  references: {
    lore: [
      '<20251029095354.56305-8-zhenzhong.duan@intel.com> [PATCH v4 07/10] intel_iommu: Fix unmap_bitmap failure with legacy VFIO backend',
      '<20260113093637.1549214-28-clg@redhat.com> [PULL 27/41] (as merged)',
      'https://lore.kernel.org/qemu-devel/20251218062643.624796-7-zhenzhong.duan@intel.com (Link: tag of the merged commit, v6)',
      '<eb2e5419-7a63-47be-adaf-e34709d8310f@nvidia.com> Avihai asks whether patch 7 is a real use case; Zhenzhong: "patch7 is a real use case"',
    ],
    fixCommits: ['cac33cb5533a'],
  },
  needs: ['vfio', 'viommu'],
  suite: 'suites/bugs/vtd-blocked-domain-unmap.spec.ts',
  reachableFrom: {
    version: '11.0',
    why: 'before the series every vIOMMU blocks VFIO migration, and with enable-migration=on that blocker is a realize error (brief §2.3 rule 5)',
    signature: {
      description: 'the pre-series vIOMMU blocker ("Migration is currently not supported with vIOMMU enabled")',
      evidence: (o) => {
        const text = [o.startError ?? '', ...o.blockedReasons].find((t) => t.includes('not supported with vIOMMU enabled'));
        return text === undefined ? null : text.trim().split('\n').find((l) => l.includes('vIOMMU')) ?? text;
      },
    },
  },
  fixedIn: { kind: 'release', version: '11.0', note: 'cac33cb5533a, pulled in pull-vfio-20260113 (merge d03c3e522eb0), QEMU 11.0 cycle' },
  before: {
    description: 'MIGRATION failed with error-desc "vfio_container_dma_unmap(... = -7 (Argument list too long)"',
    evidence: (o) => {
      const reason = o.record?.reason ?? '';
      if (o.record?.outcome !== 'failed' || !reason.includes('vfio_container_dma_unmap(') || !reason.includes('Argument list too long')) return null;
      const stderr = o.sourceLog.includes('UNMAP: Size of bitmap too big') ? '; stderr has "UNMAP: Size of bitmap too big"' : '';
      return `error-desc "${reason}"${stderr}`;
    },
  },
  after: {
    description: 'migration completed, no unmap error, no whole-space unmap during pre-copy',
    evidence: (o) => {
      if (o.record?.outcome !== 'completed') return null;
      const errors = UNMAP_ERRORS.filter((e) => o.sourceLog.includes(e));
      if (errors.length > 0) return null;
      const whole = unmapWholeDuringPreCopy(o);
      if (whole > 0) return null;
      const unmaps = selectTraceLines(o.sourceTrace, 'vfio_iommu_map_notify', sourceActiveWindow(o.record)).filter((l) => l.args.includes('UNMAP')).length;
      return `completed; ${unmaps} vfio_iommu_map_notify UNMAP records and no vtd_as_unmap_whole during pre-copy; none of ${UNMAP_ERRORS.join(', ')} on stderr`;
    },
  },
};
