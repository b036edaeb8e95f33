import { expect } from 'chai';
import { closestMatch, editDistance } from './editDistance.js';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('adress', 'address')).to.equal(1);
    expect(editDistance('address', 'adres')).to.equal(2);
    expect(editDistance('kitten', 'sitting')).to.equal(3);
    expect(editDistance('', 'abc')).to.equal(3);
    expect(editDistance('same', 'same')).to.equal(0);
  });

  it('counts swapped neighbours as one edit', () => {
    expect(editDistance('wrokDir', 'workDir')).to.equal(1);
  });
});

describe('closestMatch', () => {
  const hostKeys = ['address', 'port', 'user', 'identityFile', 'workDir', 'nics'];

  it('finds the key a typo meant', () => {
    expect(closestMatch('adress', hostKeys)).to.equal('address');
    expect(closestMatch('identityfile', hostKeys)).to.equal('identityFile');
    expect(closestMatch('nic', hostKeys)).to.equal('nics');
  });

  it('suggests nothing for a word unlike every candidate', () => {
    expect(closestMatch('colour', hostKeys)).to.equal(undefined);
    expect(closestMatch('x', hostKeys)).to.equal(undefined);
  });
});
