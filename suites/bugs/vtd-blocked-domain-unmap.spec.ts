import { bugTest } from '../../harness/bugs/bugTest.js';
import { VTD_BLOCKED_DOMAIN_UNMAP } from '../../harness/bugs/vtdBlockedDomainUnmap.js';
import { observeHostBlockedDomain } from '../blocked-domain/hostBlockedDomain.js';
import { withKey } from '../../harness/mocha/testId.js';

/**
 * Patch 7 as a reproduction (brief §7 C2): legacy container forced with enable-migration=on, a
 * device without device dirty tracking, intel-iommu (caching-mode=on), guest iommu=nopt, and the
 * guest's VFIO user program cycling the device through the blocking domain during pre-copy.
 */
describe('bugs/vtd-blocked-domain-unmap', function () {
  withKey(VTD_BLOCKED_DOMAIN_UNMAP.id, bugTest(VTD_BLOCKED_DOMAIN_UNMAP, async (context) => {
    const { observation } = await observeHostBlockedDomain(context, { backend: 'legacy', migration: { enableMigration: 'on', migrationEvents: true }, mode: 'nopt', way: 'vfio-user-program' });
    return observation;
  }));
});
