import { notShown, shown, unproven, type BugObservation, type BugReproduction, type SignatureMatch } from './BugReproduction.js';
import { completedPathSignature, preCopyWindow, traceGaps, unmapNotifications } from './pathEvidence.js';
import { wholeSpaceUnmapsBegunIn } from './wholeSpaceUnmaps.js';

/** brief §4.3: the legacy unmap-bitmap failures, in error-desc or on stderr. */
const UNMAP_ERRORS = ['vfio_container_dma_unmap(', 'UNMAP: Size of bitmap too big', 'VFIO_UNMAP_DMA with DIRTY_BITMAP'];

/** The series' last patch, which lets a vIOMMU and VFIO migration coexist: without it the path is unreachable. */
export const VIOMMU_MIGRATION_COMMIT = '0e3c1e2b2b24';

/**
 * The bug: the E2BIG error-desc, and the whole-space unmap in the source trace inside pre-copy that
 * explains it (an E2BIG from another unmap is not this bug). The stderr line supports it.
 */
function bugShown(o: BugObservation): SignatureMatch {
  const reason = o.record?.reason ?? '';
  if (o.record === null) return notShown('no migration ran');
  if (o.record.outcome !== 'failed' || !reason.includes('vfio_container_dma_unmap(') || !reason.includes('Argument list too long')) {
    return notShown(`migration ${o.record.outcome ?? 'without outcome'}${reason !== '' ? ` (${reason.slice(0, 200)})` : ''}, not failed with the E2BIG unmap`);
  }
  const pre = preCopyWindow(o);
  if ('missing' in pre) return unproven([pre.missing, ...traceGaps(o, 'presence')]);
  // "Inside pre-copy" is when the unmap began: QEMU writes its record after the loop the migration fails in.
  const whole = wholeSpaceUnmapsBegunIn(o.sourceTrace, pre.window).map((u) => u.record);
  if (whole.length === 0) {
    return unproven([...traceGaps(o, 'presence'), `vtd_as_unmap_whole in the source trace inside pre-copy: none among ${o.sourceTrace.length} records (the error-desc alone does not say which unmap failed)`]);
  }
  const bitmap = /UNMAP: Size of bitmap too big 0x[0-9a-f]+/.exec(o.sourceLog)?.[0];
  return shown(`error-desc "${reason}"; ${whole.length} vtd_as_unmap_whole inside pre-copy (first: "${whole[0]!.args}"); ${bitmap !== undefined ? `stderr "${bitmap}"` : 'stderr has no "UNMAP: Size of bitmap too big"'}`);
}

/**
 * The fix, on positive evidence only: the guest moved its device through the blocking domain
 * inside pre-copy on every cycle and the source saw each switch; VFIO got per-mapping UNMAP
 * notifications (the guest's own mapping among them) and never a whole-space one; no unmap error;
 * the guest lives on, same boot, device usable, on the destination.
 */
function fixShown(o: BugObservation): SignatureMatch {
  const errors = UNMAP_ERRORS.filter((e) => o.sourceLog.includes(e));
  if (o.record?.outcome === 'completed' && errors.length > 0) return notShown(`stderr has ${errors.map((e) => `"${e}"`).join(', ')}`);
  return completedPathSignature(o, (window) => {
    const whole = wholeSpaceUnmapsBegunIn(o.sourceTrace, window).map((u) => u.record);
    if (whole.length > 0) return { contradiction: `${whole.length} vtd_as_unmap_whole inside pre-copy (first: "${whole[0]!.args}")`, missing: null, text: '' };
    const unmaps = unmapNotifications(o, window);
    if (unmaps.wholeSpace.length > 0) return { contradiction: `${unmaps.wholeSpace.length} whole-space UNMAP notifications inside pre-copy (first: "${unmaps.wholeSpace[0]!.args}")`, missing: null, text: '' };
    const dma = o.guestLoop?.dmaWindow ?? null;
    const ofDevice = dma === null ? unmaps.perMapping : unmaps.ofGuestWindow;
    const missing = ofDevice > 0 ? null
      : `per-mapping UNMAP notifications for the device inside pre-copy: vfio_iommu_map_notify shows ${unmaps.perMapping} page-sized UNMAPs${dma !== null ? `, none inside the guest program's window 0x${dma.iova.toString(16)}+${dma.sizeBytes}` : ''}`;
    return {
      contradiction: null,
      missing,
      text: `${unmaps.perMapping} per-mapping vfio_iommu_map_notify UNMAPs inside pre-copy${dma !== null ? ` (${unmaps.ofGuestWindow} of the guest program's window)` : ''}, none whole-space, no vtd_as_unmap_whole in ${o.sourceTraceFile.recordCount} readable trace records; none of ${UNMAP_ERRORS.join(', ')} on stderr`,
    };
  });
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
    reachableWith: [VIOMMU_MIGRATION_COMMIT],
  },
  needs: ['vfio', 'viommu'],
  suite: 'suites/bugs/vtd-blocked-domain-unmap.spec.ts',
  reachableFrom: {
    version: '11.0',
    why: 'before the series every vIOMMU blocks VFIO migration, and with enable-migration=on that blocker is a realize error (brief §2.3 rule 5)',
    signature: {
      description: 'the pre-series vIOMMU blocker ("Migration is currently not supported with vIOMMU enabled")',
      match: (o) => {
        const text = [o.startError ?? '', ...o.blockedReasons].find((t) => t.includes('not supported with vIOMMU enabled'));
        return text === undefined ? notShown('no vIOMMU blocker in the start error or blocked-reasons') : shown(text.trim().split('\n').find((l) => l.includes('vIOMMU')) ?? text);
      },
    },
  },
  fixedIn: { kind: 'release', version: '11.0', note: 'cac33cb5533a, pulled in pull-vfio-20260113 (merge d03c3e522eb0), QEMU 11.0 cycle' },
  before: {
    description: 'MIGRATION failed with error-desc "vfio_container_dma_unmap(... = -7 (Argument list too long)" and the whole-space unmap (vtd_as_unmap_whole) inside pre-copy',
    match: bugShown,
  },
  after: {
    description: 'migration completed with every guest cycle through the blocking domain seen inside pre-copy, per-mapping UNMAP notifications, no whole-space unmap, no unmap error, the guest and its device alive on the destination',
    match: fixShown,
  },
};
