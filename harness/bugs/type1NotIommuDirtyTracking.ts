import { notShown, shown, unproven, type BugReproduction } from './BugReproduction.js';

const BLOCKER = "doesn't support device and IOMMU dirty tracking";

/**
 * The patch-8 thread of "vfio: relax the vIOMMU check" (brief §1.4): v4 08/10 would have counted
 * the legacy type1 dirty bitmap as IOMMU dirty tracking. Avihai and Joao: type1 tracking is
 * "perpetual" (everything mapped reads dirty), so it must not admit migration on its own; the
 * patch was dropped in v5. The behaviour under test is mainline's: a device without DMA logging
 * on the legacy backend with enable-migration=auto gets a blocker.
 */
export const TYPE1_NOT_IOMMU_DIRTY_TRACKING: BugReproduction = {
  id: 'type1-not-iommu-dirty-tracking',
  title: 'patch 8 thread: legacy type1 dirty tracking is not IOMMU dirty tracking — device without DMA logging, legacy backend, enable-migration=auto is blocked',
  references: {
    lore: [
      '<20251029095354.56305-9-zhenzhong.duan@intel.com> [PATCH v4 08/10] vfio/migration: Fix a check on vbasedev->iommu_dirty_tracking',
      '<eb2e5419-7a63-47be-adaf-e34709d8310f@nvidia.com> Avihai Horon: type1 dirty tracking is not a real dirty tracker',
      '<fbfe567f-c8d0-4342-a593-efe48d7050ad@oracle.com> Joao Martins: "perpectual" dirty tracking',
      '<d073c27d-1006-470b-b5ef-7d7e73a738bf@oracle.com> Joao Martins: iommu_dirty_tracking "should be false" for type1',
      'v5 0/9 <20251106042027.856594-1-…> (2025-11-06): "drop the patch checking iommu_dirty_tracking (Avihai, Joao)"',
    ],
    fixes: '30b916778517 (the Fixes: tag v4 08/10 carried: "vfio/common: Allow disabling device dirty page tracking")',
    fixCommits: [],
  },
  needs: ['vfio'],
  suite: 'suites/bugs/type1-not-iommu-dirty-tracking.spec.ts',
  fixedIn: { kind: 'always', sinceVersion: '9.1', note: 'mainline never sets iommu_dirty_tracking on the legacy backend (the patch was dropped in v5); the blocker text dates from 9.1' },
  before: {
    description: 'no blocker: type1 dirty tracking counted as IOMMU dirty tracking (v4 08/10 applied) — migrate accepted and the device\'s state migrated',
    match: (o) => {
      if (o.startError !== null) return notShown('QEMU did not start');
      if (o.record === null) return notShown('no migration ran');
      if (o.blockedReasons.some((r) => r.includes('dirty tracking')) || o.record.outcome === 'blocked') return notShown(`migrate refused or blocked (outcome ${o.record.outcome ?? 'none'})`);
      // "No blocker" is an absence; what shows the device really went through migration is the
      // source reaching "active" and, when it completed, VFIO device state in the stream.
      const isActive = o.record.events.some((e) => e.side === 'source' && e.name === 'MIGRATION' && e.data['status'] === 'active');
      const missing: string[] = [];
      if (!isActive) missing.push('the migration running: no source MIGRATION "active" event, so "migrate accepted" is not shown');
      if (o.record.outcome === 'completed' && !((o.record.measurements.vfioBytes ?? 0) > 0)) missing.push('VFIO device state in the migration stream: vfioBytes is 0 or absent, so the device may not have taken part');
      if (missing.length > 0) return unproven(missing);
      return shown(`no dirty-tracking blocker, migrate accepted: source MIGRATION active, outcome ${o.record.outcome ?? 'none'}${o.record.measurements.vfioBytes !== undefined ? `, ${o.record.measurements.vfioBytes} B of VFIO state` : ''}`);
    },
  },
  after: {
    description: `blocked: "<device>: VFIO device ${BLOCKER}", and migrate refused with it`,
    match: (o) => {
      const reason = o.blockedReasons.find((r) => r.includes(BLOCKER));
      if (reason === undefined) return notShown(`no "${BLOCKER}" in blocked-reasons ${JSON.stringify(o.blockedReasons)}`);
      if (o.record?.outcome !== 'blocked') return notShown(`blocked-reasons name it but migrate was not refused (outcome ${o.record?.outcome ?? 'no migration'})`);
      return shown(`blocked-reasons "${reason}"; migrate refused: ${o.record.reason ?? ''}`);
    },
  },
};
