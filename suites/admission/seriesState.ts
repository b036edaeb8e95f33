import type { QemuFacts } from '../../harness/host/HostFacts.js';
import { qemuFixState, type FixState } from '../../harness/bugs/qemuFixState.js';

/**
 * Whether the QEMU under test has "vfio: relax the vIOMMU check" (brief §7: pre-series is ≤ 10.2,
 * post-series is 11.0, or vfio-next from 2026-01-09 on). "fixed" here means post-series.
 */
export function seriesState(qemu: Pick<QemuFacts, 'version' | 'versionLine'> | undefined): FixState {
  return qemuFixState(
    { version: qemu?.version ?? null, versionLine: qemu?.versionLine ?? null },
    { fixedIn: { kind: 'release', version: '11.0', note: 'pull-vfio-20260113 (relax vIOMMU check 0e3c1e2b2b24)' }, references: { lore: [], fixCommits: ['0e3c1e2b2b24', 'd03c3e522eb0'] } },
  );
}

export const SERIES_REFERENCES: readonly string[] = [
  'lore <20251029095354.56305-1-zhenzhong.duan@intel.com> [PATCH v4 00/10] vfio: relax the vIOMMU check',
  'lore <20260113093637.1549214-1-clg@redhat.com> [PULL 00/41] vfio queue (pull-vfio-20260113)',
  'vfio-migration brief §2.3 (vfio_migration_realize admission rules) and §7 A',
];
