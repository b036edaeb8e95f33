import { expect } from 'chai';
import { amdHdSupport, hwptDirtyTracking, intelEcapMissing, intelScalableMode, judgeIommuDirtyTracking, parseHwptAllocTrace } from './dirtyTracking.js';
import { deviceMigrationHint } from './migrationSupport.js';

const bits = (...n: number[]): string => n.reduce((v, b) => v | (1n << BigInt(b)), 0n).toString(16);

describe('IOMMU dirty tracking detection', () => {
  it('reads Intel ECAP SMTS (43), SLADS (45), SMPWC (48)', () => {
    expect(intelEcapMissing(bits(43, 45, 48, 1))).to.deep.equal([]);
    expect(intelEcapMissing(bits(43, 48))).to.deep.equal(['SLADS']);
    expect(intelEcapMissing('0x0')).to.deep.equal(['SMTS', 'SLADS', 'SMPWC']);
    expect(intelEcapMissing('zz')).to.equal(null);
  });

  it('takes scalable mode from intel_iommu= or else the kernel default', () => {
    expect(intelScalableMode('ro quiet intel_iommu=on,sm_on iommu=pt', false)).to.equal('on');
    expect(intelScalableMode('intel_iommu=on,sm_off', true)).to.equal('off');
    expect(intelScalableMode('intel_iommu=on', true)).to.equal('on');
    expect(intelScalableMode('intel_iommu=on', null)).to.equal('unknown');
  });

  it('needs both capability and scalable mode on Intel, and says which is missing', () => {
    const capable = { unit: 'dmar0', intelEcap: bits(43, 45, 48) };
    expect(judgeIommuDirtyTracking({ units: [capable], cmdline: 'intel_iommu=on,sm_on', isScalableModeDefaultOn: null }).isSupported).to.equal(true);
    const noSm = judgeIommuDirtyTracking({ units: [capable], cmdline: 'intel_iommu=on', isScalableModeDefaultOn: false });
    expect(noSm).to.deep.include({ isSupported: false, vendor: 'intel' });
    expect(noSm.reason).to.include('scalable mode is off: boot with intel_iommu=on,sm_on');
    const old = judgeIommuDirtyTracking({ units: [capable, { unit: 'dmar1', intelEcap: bits(43) }], cmdline: 'intel_iommu=on,sm_on', isScalableModeDefaultOn: null });
    expect(old.reason).to.equal('Intel VT-d without second-stage dirty tracking: dmar1 lacks ECAP SLADS+SMPWC');
    expect(judgeIommuDirtyTracking({ units: [], cmdline: '', isScalableModeDefaultOn: null }).reason).to.equal('no IOMMU unit in /sys/class/iommu');
  });

  it('reads AMD HDSup (EFR bit 52) whichever way round the kernel prints EFR and EFR2', () => {
    expect(amdHdSupport(bits(52, 4))).to.equal(true);
    expect(amdHdSupport(bits(4))).to.equal(false);
    // Two words, both readings agree.
    expect(amdHdSupport(`${bits(52)}:${bits(52, 3)}`)).to.equal(true);
    expect(amdHdSupport(`${bits(1)}:${bits(3)}`)).to.equal(false);
    // Two words that disagree: only dmesg's "Using global IVHD EFR" can settle it.
    expect(amdHdSupport(`${bits(52)}:${bits(3)}`)).to.equal(null);
    expect(amdHdSupport(`${bits(52)}:${bits(3)}`, `0x${bits(3)}`)).to.equal(false);
    expect(judgeIommuDirtyTracking({ units: [{ unit: 'ivhd0', amdFeatures: `${bits(52)}:${bits(3)}` }], cmdline: '', isScalableModeDefaultOn: null }).reason).to.include('cannot tell HDSup');
  });

  it('parses QEMU iommufd_backend_alloc_hwpt trace lines and tells whether dirty tracking was granted', () => {
    const log = [
      '1234@1732460000.123456:iommufd_backend_alloc_hwpt  iommufd=5 dev_id=1 pt_id=2 flags=0x2 hwpt_type=0 len=0 data_ptr=0x0 out_hwpt=3 (0)',
      'iommufd_backend_alloc_hwpt iommufd=5 dev_id=2 pt_id=2 flags=0x0 hwpt_type=0 len=0 data_ptr=0x0 out_hwpt=4 (0)',
      'vfio_migration_state_notifier (vm) running',
    ].join('\n');
    const allocations = parseHwptAllocTrace(log);
    expect(allocations).to.deep.equal([
      { devId: 1, ptId: 2, flags: 2, outHwpt: 3, ret: 0, isDirtyTrackingRequested: true },
      { devId: 2, ptId: 2, flags: 0, outHwpt: 4, ret: 0, isDirtyTrackingRequested: false },
    ]);
    expect(hwptDirtyTracking(allocations).verdict).to.equal('enabled');
    expect(hwptDirtyTracking(parseHwptAllocTrace('iommufd_backend_alloc_hwpt iommufd=5 dev_id=1 pt_id=2 flags=0x2 hwpt_type=0 len=0 data_ptr=0x0 out_hwpt=0 (-95)')).verdict).to.equal('refused');
    expect(hwptDirtyTracking([allocations[1]!]).verdict).to.equal('not-requested');
    expect(hwptDirtyTracking([]).verdict).to.equal('no-allocation');
  });
});

describe('deviceMigrationHint', () => {
  it('knows the variant drivers with migration, and which log DMA themselves', () => {
    expect(deviceMigrationHint('mlx5_vfio_pci')).to.deep.include({ isVariantDriver: true, hasMigration: true, hasDeviceDirtyTracking: true });
    expect(deviceMigrationHint('pds-vfio-pci')).to.deep.include({ hasMigration: true, hasDeviceDirtyTracking: true });
    expect(deviceMigrationHint('virtio_vfio_pci')).to.deep.include({ hasMigration: true, hasDeviceDirtyTracking: false });
    expect(deviceMigrationHint('vfio-pci')).to.deep.include({ isVariantDriver: false, hasMigration: false });
    expect(deviceMigrationHint('foo_vfio_pci').note).to.include('unknown VFIO variant driver');
    expect(deviceMigrationHint('igbvf').note).to.equal('bound to host driver igbvf, not VFIO');
  });
});
