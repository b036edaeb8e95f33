import { expect } from 'chai';
import { describeIdentity } from './formatPreflight.js';

describe('describeIdentity (preflight\'s QEMU build row)', () => {
  it('shows a source build\'s base, the commits applied and left out, and the local fix-ups', () => {
    expect(describeIdentity({
      kind: 'source', name: 'qemu-series-nofix', base: 'debian 1:10.2.2+ds-1 (unstable)',
      appliedCommits: ['31ec4aadd066852e2cf823f47d7fbbe9ebeca955', 'f051dbeb91a2970b2c119afcfae8e63028332ef8'],
      leftOutCommits: ['cac33cb5533ad38fd16b02468c1adbbed53ea536'], localPatches: ['fix.patch'],
      inputsHash: 'ab'.repeat(32), pkgVersion: 'vfio-hil abababababab +2 upstream without cac33cb5533a +1 local',
    })).to.equal('qemu-series-nofix: debian 1:10.2.2+ds-1 (unstable); applied 31ec4aadd066 f051dbeb91a2; left out cac33cb5533a; local fix.patch');
  });

  it('says a binary is known by its version line only', () => {
    expect(describeIdentity({ kind: 'binary', name: 'qemu-10' })).to.equal('qemu-10 (a binary: known by its version line only)');
  });
});
