import { percentile } from './statistics.js';

/**
 * A small seeded generator (mulberry32): the same seed gives the same resamples, so a regression
 * verdict computed twice from the same history is the same verdict.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapOptions {
  /** Which percentile of each run is compared (95 for p95). */
  readonly percentile: number;
  readonly resamples: number;
  /** Two-sided coverage of the interval: 0.9 gives the 5th and 95th percentiles of the differences. */
  readonly coverage: number;
  readonly seed: number;
}

export const DEFAULT_BOOTSTRAP: BootstrapOptions = { percentile: 95, resamples: 2000, coverage: 0.9, seed: 0x5eed };

export interface DifferenceInterval {
  /** The percentile of `after` minus that of `before`, on the data as measured. */
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
}

function resample(values: readonly number[], random: () => number): number[] {
  return Array.from(values, () => values[Math.floor(random() * values.length)]!);
}

/**
 * Percentile bootstrap of the difference of a percentile between two independent samples: each
 * run is resampled with replacement, the percentile difference taken each time, and the interval
 * read from the spread of those differences. An outlier that happened once moves some resamples
 * and not others, so it widens the interval instead of deciding the verdict.
 */
export function bootstrapPercentileDifference(before: readonly number[], after: readonly number[], options: BootstrapOptions = DEFAULT_BOOTSTRAP): DifferenceInterval {
  if (before.length === 0 || after.length === 0) throw new RangeError('bootstrap of an empty sample');
  if (!(options.coverage > 0 && options.coverage < 1)) throw new RangeError(`coverage ${options.coverage} is outside (0, 1)`);
  const random = seededRandom(options.seed);
  const differences: number[] = [];
  for (let i = 0; i < options.resamples; i++) {
    differences.push(percentile(resample(after, random), options.percentile) - percentile(resample(before, random), options.percentile));
  }
  const tail = ((1 - options.coverage) / 2) * 100;
  return {
    estimate: percentile(after, options.percentile) - percentile(before, options.percentile),
    low: percentile(differences, tail),
    high: percentile(differences, 100 - tail),
  };
}
