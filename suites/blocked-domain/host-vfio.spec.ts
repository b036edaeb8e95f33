import { VFIO_LISTENER_PT_TO_BLOCKED, VTD_BLOCKED_DOMAIN_IOMMUFD } from '../../harness/bugs/blockedDomainCompanions.js';
import { bugTest } from '../../harness/bugs/bugTest.js';
import { observeHostBlockedDomain } from './hostBlockedDomain.js';
import { withKey } from '../../harness/mocha/testId.js';

/**
 * Scenario C with the device assigned from the host (brief §7 C1, C3). C2, the legacy-backend
 * patch-7 failure itself, is the bug reproduction suites/bugs/vtd-blocked-domain-unmap.spec.ts.
 * Each verdict is chosen from the QEMU under test: FIXED on a QEMU with the series, REPRODUCED
 * on one without the fix, skipped with the vIOMMU blocker's words on a QEMU before the series.
 */
describe('blocked-domain/host-vfio: an assigned VFIO device moved through the blocking domain by the guest during migration (brief §7 C1, C3)', function () {
  withKey(VTD_BLOCKED_DOMAIN_IOMMUFD.id, bugTest(VTD_BLOCKED_DOMAIN_IOMMUFD, async (context) => {
    const { observation } = await observeHostBlockedDomain(context, { backend: 'iommufd', migration: { enableMigration: 'auto', migrationEvents: true }, mode: 'nopt', way: 'vfio-user-program', lookup: { kinds: ['vf'] } });
    return observation;
  }));

  withKey(VFIO_LISTENER_PT_TO_BLOCKED.id, bugTest(VFIO_LISTENER_PT_TO_BLOCKED, async (context) => {
    const { observation } = await observeHostBlockedDomain(context, { backend: 'legacy', migration: { enableMigration: 'on', migrationEvents: true }, mode: 'pt', way: 'vfio-user-program' });
    return observation;
  }));
});
