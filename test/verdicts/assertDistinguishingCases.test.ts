import { expect } from 'chai';
import type { NicSpec } from '../../harness/config/types.js';
import type { AssignableDevice, DevicePairLookup } from '../../harness/session/assignableDevices.js';
import { forcedLegacyDecision, mixedBackendDecision } from '../../suites/migration/distinguishingCases.js';

const MTTY: NicSpec = { kind: 'mdev', name: 'mtty0', parent: 'mtty', type: 'mtty-2', uuid: '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001' };
const QAT_VF: NicSpec = { kind: 'vf', name: 'qat0', pf: '0000:3d:00.0', pfDriver: 'qat_4xxx', numVfs: 2, vfIndex: 0, vfioDriver: 'qat_vfio_pci' };

function found(nic: NicSpec): DevicePairLookup {
  const device = (host: string): AssignableDevice => ({ host, nic, kind: nic.kind === 'vf' ? 'vf' : 'mdev', address: 'x', qemuName: 'x', neededMigration: { deviceDirtyPageTracking: 'off' } });
  return { isFound: true, source: device('host-a'), destination: device('host-b') };
}

describe('tests that claim a case run only where the lab can give it', () => {
  it('B(iv) perpetual dirty runs on a VF without DMA logging', () => {
    expect(forcedLegacyDecision('perpetual-dirty', found(QAT_VF))).to.deep.equal({ isRunnable: true });
  });

  it('B(iv) perpetual dirty is skipped, naming why, on a lab whose only such device is an mdev (the nested lab)', () => {
    const lookup: DevicePairLookup = { isFound: false, reason: 'missing capability: migratable-without-device-dirty-tracking VFIO device: no NIC of kind vf of host-a in labs/nested.yaml is a migratable-without-device-dirty-tracking device' };
    const decision = forcedLegacyDecision('perpetual-dirty', lookup);
    expect(decision.isRunnable).to.equal(false);
    expect(!decision.isRunnable && decision.skipReason).to.match(/^B\(iv\) perpetual dirty needs a VF .* in a type1 IOMMU domain; an mdev cannot show it .*: missing capability: .*no NIC of kind vf/);
    // Handed an mdev anyway, it still refuses to call that perpetual dirty.
    const onMdev = forcedLegacyDecision('perpetual-dirty', found(MTTY));
    expect(!onMdev.isRunnable && onMdev.skipReason).to.match(/the lab's mdev mtty0 shows pinned-pages-only$/);
  });

  it('B(iv-mdev) runs on an mdev and not on a VF', () => {
    expect(forcedLegacyDecision('pinned-pages-only', found(MTTY))).to.deep.equal({ isRunnable: true });
    expect(forcedLegacyDecision('pinned-pages-only', found(QAT_VF)).isRunnable).to.equal(false);
  });

  it('M1 is skipped when both devices get the same verdict (two tracked mdevs: the trivial case)', () => {
    const decision = mixedBackendDecision([
      { name: 'mtty0', backend: 'legacy', isBlockerExpected: false },
      { name: 'mtty1', backend: 'iommufd', isBlockerExpected: false },
    ]);
    expect(decision).to.deep.equal({ isRunnable: false, skipReason: 'M1 needs two devices QEMU must judge differently (one without a dirty tracker on its backend, blocked; one with a tracker, admitted); this lab gives mtty0 on legacy: no blocker expected, mtty1 on iommufd: no blocker expected' });
    expect(mixedBackendDecision([{ name: 'a', backend: 'legacy', isBlockerExpected: true }, { name: 'b', backend: 'iommufd', isBlockerExpected: true }]).isRunnable).to.equal(false);
  });

  it('M1 runs when one device is expected blocked and the other admitted', () => {
    expect(mixedBackendDecision([
      { name: 'mtty0', backend: 'legacy', isBlockerExpected: true },
      { name: 'mtty1', backend: 'iommufd', isBlockerExpected: false },
    ])).to.deep.equal({ isRunnable: true });
  });
});
