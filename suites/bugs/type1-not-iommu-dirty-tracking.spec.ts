import { bugTest } from '../../harness/bugs/bugTest.js';
import { observeMigration } from '../../harness/bugs/observeMigration.js';
import { TYPE1_NOT_IOMMU_DIRTY_TRACKING } from '../../harness/bugs/type1NotIommuDirtyTracking.js';
import { requireDevicePair, vfioVmNic } from '../../harness/session/assignableDevices.js';
import { withKey } from '../../harness/mocha/testId.js';

/**
 * The patch-8 thread as a reproduction (brief §1.4): a device without DMA logging on the legacy
 * backend with enable-migration=auto. Mainline blocks it; a QEMU carrying v4 08/10 would not.
 */
describe('bugs/type1-not-iommu-dirty-tracking', function () {
  withKey(TYPE1_NOT_IOMMU_DIRTY_TRACKING.id, bugTest(TYPE1_NOT_IOMMU_DIRTY_TRACKING, async (context) => {
    const devices = await requireDevicePair(context, 'migratable-without-device-dirty-tracking');
    Object.assign(context.scope.labels, { backend: 'legacy', device: `${devices.source.kind} ${devices.source.nic.name}` });
    const nic = (device: typeof devices.source) => [vfioVmNic(device, { id: 'vf0', backend: 'legacy', migration: { enableMigration: 'auto' } })];
    const { observation } = await observeMigration(context, { launch: { nics: nic(devices.source) }, destinationLaunch: { nics: nic(devices.destination) }, isMigrating: true });
    return observation;
  }));
});
