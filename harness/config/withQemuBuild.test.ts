import { expect } from 'chai';
import { InfrastructureError } from '../errors.js';
import { parseLab } from './loadLab.js';
import { MINIMAL_LAB_LINES } from './labFixture.js';
import { withQemuBuild } from './withQemuBuild.js';

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
