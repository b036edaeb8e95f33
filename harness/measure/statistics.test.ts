import { expect } from 'chai';
import { isWithinTolerance, percentile, summarize } from './statistics.js';

describe('statistics', () => {
  it('interpolates percentiles between ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).to.equal(2.5);
    expect(percentile([10], 95)).to.equal(10);
    expect(percentile([5, 1, 4, 2, 3], 0)).to.equal(1);
    expect(percentile([5, 1, 4, 2, 3], 100)).to.equal(5);
    expect(percentile([0, 100], 95)).to.be.closeTo(95, 1e-9);
  });
  it('rejects empty input and bad ranks', () => {
    expect(() => percentile([], 50)).to.throw(RangeError);
    expect(() => percentile([1], 101)).to.throw(/outside/);
  });
  it('summarizes', () => {
    expect(summarize([3, 1, 2])).to.deep.equal({ count: 3, min: 1, p50: 2, p95: 2.9, max: 3, mean: 2 });
  });
  it('checks relative tolerance with real arithmetic', () => {
    expect(isWithinTolerance(110, 100, 0.1)).to.equal(true);
    expect(isWithinTolerance(111, 100, 0.1)).to.equal(false);
    expect(isWithinTolerance(111, 100, 0.1, 1)).to.equal(true);
  });
});
