import type Mocha from 'mocha';
import { InfrastructureError } from '../errors.js';
import type { ShardSpec } from '../report/RunResults.js';

/** "2/4" → { index: 2, count: 4 } (index 1-based, as CI engines number parallel jobs). */
export function parseShard(text: string): ShardSpec {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !(count >= 1) || !(index >= 1 && index <= count)) {
    throw new InfrastructureError('RUN_BAD_SHARD', `--shard must be i/n with 1 ≤ i ≤ n (e.g. 2/4, like GitLab's CI_NODE_INDEX/CI_NODE_TOTAL), got "${text}"`);
  }
  return { index, count };
}

/**
 * Which shard runs a test: the tests' full titles are sorted and dealt out round-robin. Every
 * shard job computes the same list (same commit, same arguments), so the shares are disjoint and
 * cover everything, and they differ in size by at most one test; a hash of each id would be as
 * stable but can leave one shard with most of a small suite.
 */
export function shardOf(testIds: readonly string[], count: number): Map<string, number> {
  const sorted = [...new Set(testIds)].sort();
  return new Map(sorted.map((id, i) => [id, (i % count) + 1]));
}

/** Removes from the loaded suites every test that is not this shard's; returns how many stay. */
export function selectShard(root: Mocha.Suite, shard: ShardSpec, grep?: string): { kept: number; total: number } {
  const all: Mocha.Test[] = [];
  const walk = (suite: Mocha.Suite): void => {
    all.push(...suite.tests);
    suite.suites.forEach(walk);
  };
  walk(root);
  // Deal out only the tests --grep keeps (mocha matches it as a substring of the full title), so
  // the shards stay even when a run is narrowed.
  const candidates = all.filter((t) => grep === undefined || t.fullTitle().includes(grep));
  const owner = shardOf(candidates.map((t) => t.fullTitle()), shard.count);
  const keep = (suite: Mocha.Suite): void => {
    suite.tests = suite.tests.filter((t) => owner.get(t.fullTitle()) === shard.index);
    suite.suites.forEach(keep);
  };
  keep(root);
  return { kept: [...owner.values()].filter((i) => i === shard.index).length, total: candidates.length };
}
