import { expect } from 'chai';
import { InfrastructureError } from '../errors.js';
import { parseLab } from './loadLab.js';
import { MINIMAL_LAB_LINES } from '../../test/support/labFixture.js';
import { withQemuBuild, withViommuAddressWidth } from './withQemuBuild.js';
import { withViommuDefaults } from '../session/vmSpecFor.js';
import type { VmSpec } from '../qemu/VmSpec.js';

describe('withQemuBuild: hil run --qemu <build>', () => {
  const text = [...MINIMAL_LAB_LINES.slice(0, 25), '  next:', '    binary: /opt/qemu-next/bin/qemu-system-x86_64', ...MINIMAL_LAB_LINES.slice(25)].join('\n');

  it('puts every host on the named build and leaves the lab file\'s object as it was', () => {
    const lab = parseLab(text, '/labs/t.yaml');
    const switched = withQemuBuild(lab, 'next');
    expect(Object.values(switched.hosts).map((h) => h.qemu)).to.deep.equal(['next', 'next']);
    expect(Object.values(lab.hosts).map((h) => h.qemu)).to.deep.equal(['default', 'default']);
  });

  it('refuses a build the lab file does not have, naming the ones it has', () => {
    const lab = parseLab(text, '/labs/t.yaml');
    expect(() => withQemuBuild(lab, 'qemu-12')).to.throw(InfrastructureError, '--qemu qemu-12: /labs/t.yaml has no QEMU build "qemu-12" under qemu: (it has default, next)');
  });
});

describe('withViommuAddressWidth: hil run --viommu-aw-bits <bits>', () => {
  const lab = parseLab(MINIMAL_LAB_LINES.join('\n'), '/labs/t.yaml');
  const spec = { name: 'vm', machine: 'q35', nics: [], viommu: { model: 'intel-iommu' } } as unknown as VmSpec;

  it('gives a vIOMMU the suite did not size aw-bits 39, and leaves a spec without a vIOMMU or with its own width alone', () => {
    const defaults = withViommuAddressWidth(lab, '39').defaults.viommu;
    expect(withViommuDefaults(spec, defaults).viommu).to.deep.equal({ model: 'intel-iommu', addressWidthBits: 39 });
    expect(withViommuDefaults({ ...spec, viommu: { model: 'intel-iommu', addressWidthBits: 48 } }, defaults).viommu?.addressWidthBits).to.equal(48);
    const { viommu: _none, ...plain } = spec;
    expect(withViommuDefaults(plain as VmSpec, defaults).viommu).to.equal(undefined);
    expect(withViommuDefaults(spec, lab.defaults.viommu).viommu).to.deep.equal({ model: 'intel-iommu' });
  });

  it('refuses a width intel-iommu does not take', () => {
    expect(() => withViommuAddressWidth(lab, '52')).to.throw(InfrastructureError, '--viommu-aw-bits 52: intel-iommu takes aw-bits 39 or 48');
  });
});
