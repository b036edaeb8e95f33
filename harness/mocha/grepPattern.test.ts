import { expect } from 'chai';
import { grepPattern } from './createHilMocha.js';

describe('hil run --grep: a title that contains the text', function () {
  it('takes the text as it is written, brackets and dots included', function () {
    const pattern = grepPattern('B(i)');
    expect(pattern.test('migration/backends B(i) device dirty tracking, legacy container')).to.equal(true);
    expect(pattern.test('migration/backends Bi device dirty tracking')).to.equal(false);
    expect(grepPattern('A5-on/legacy').test('admission A5-on/legacy: device with DMA logging')).to.equal(true);
    expect(grepPattern('1.5 ×').test('stop-copy RAM ≤ 135 × bandwidth')).to.equal(false);
  });
});
