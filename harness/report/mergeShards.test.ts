import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Mocha from 'mocha';
import { parseShard, selectShard, shardOf } from '../mocha/selectShard.js';
import { cellLabels, syntheticRun, writeSyntheticRun } from '../../test/support/syntheticRun.js';
import { mergeShards, missingShards } from './mergeShards.js';
import { ReportError } from './ReportError.js';
import { resultsSchemaProblems } from './resultsSchema.js';

describe('shards: hil run --shard i/n and hil report --merge', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'hil-shards-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parseShard takes i/n with 1 ≤ i ≤ n and says what it wants otherwise', () => {
    expect(parseShard('2/4')).to.deep.equal({ index: 2, count: 4 });
    for (const bad of ['0/2', '3/2', '1', 'a/b', '1/0', '-1/2']) expect(() => parseShard(bad), bad).to.throw(/--shard must be i\/n with 1 ≤ i ≤ n/);
  });

  it('shards are disjoint, cover every test, differ by at most one, and do not depend on the order found', () => {
    const ids = Array.from({ length: 23 }, (_, i) => `suite > test ${i}`);
    const a = shardOf(ids, 4);
    const b = shardOf([...ids].reverse(), 4);
    expect([...a.entries()].sort()).to.deep.equal([...b.entries()].sort());
    const sizes = [1, 2, 3, 4].map((i) => [...a.values()].filter((s) => s === i).length);
    expect(sizes.reduce((x, y) => x + y)).to.equal(23);
    expect(Math.max(...sizes) - Math.min(...sizes)).to.be.at.most(1);
  });

  it('selectShard keeps only its share of a loaded mocha suite tree, dealing out what --grep keeps', () => {
    const titles = (root: Mocha.Suite): string[] => [...root.tests.map((t) => t.fullTitle()), ...root.suites.flatMap(titles)];
    const build = () => {
      const root = new Mocha.Suite('', new Mocha.Context());
      root.root = true;
      for (const name of ['alpha', 'beta']) {
        const suite = Mocha.Suite.create(root, name);
        for (let i = 0; i < 3; i++) suite.addTest(new Mocha.Test(`vfio ${i}`, () => undefined));
        suite.addTest(new Mocha.Test('emulated', () => undefined));
      }
      return root;
    };
    const shares = [1, 2, 3].map((index) => {
      const root = build();
      const counts = selectShard(root, { index, count: 3 }, 'vfio');
      expect(counts.total).to.equal(6);
      return titles(root);
    });
    expect(shares.map((s) => s.length)).to.deep.equal([2, 2, 2]);
    expect(shares.flat().sort()).to.deep.equal(['alpha vfio 0', 'alpha vfio 1', 'alpha vfio 2', 'beta vfio 0', 'beta vfio 1', 'beta vfio 2']);
  });

  it('merges shard runs into one valid run, copying artifacts under shards/<runId>/', () => {
    const s1 = syntheticRun('20260101-020000-aaaa', '2026-01-01T02:00:00.000Z', [{ title: 'a', outcome: 'PASS', labels: cellLabels('virtio-net-pci', 'none'), downtimesMs: [10] }], { shard: { index: 1, count: 2 } });
    const s2 = syntheticRun('20260101-020100-bbbb', '2026-01-01T02:01:00.000Z', [{ title: 'b', outcome: 'FAIL', error: 'x', downtimesMs: [30] }], { shard: { index: 2, count: 2 } });
    const shards = [s2, s1].map((results) => ({ runDir: writeSyntheticRun(dir, results), results }));
    const mergedDir = join(dir, 'merged');
    mkdirSync(mergedDir);
    const merged = mergeShards(shards, 'merged', mergedDir);
    expect(resultsSchemaProblems(merged)).to.deep.equal([]);
    expect(merged.tests.map((t) => t.title).sort()).to.deep.equal(['a', 'b']);
    expect(merged).to.include({ startedAt: '2026-01-01T02:00:00.000Z', isComplete: true, shard: null });
    expect(merged.mergedFrom!.map((m) => m.shard?.index)).to.deep.equal([2, 1]);
    const record = merged.tests.find((t) => t.title === 'a')!.migrations[0]!.recordArtifact;
    expect(record).to.equal('shards/20260101-020000-aaaa/artifacts/001-test/m1.migration.json');
    expect(existsSync(join(mergedDir, record))).to.equal(true);
    expect(missingShards(merged)).to.deep.equal([]);
    // One shard alone: the merge says it is not the whole run.
    const partial = mergeShards([shards[0]!], 'partial', join(dir, 'partial'));
    expect(partial.isComplete).to.equal(false);
    expect(missingShards(partial)).to.deep.equal([1]);
  });

  it('refuses shards of different splits, labs, the same shard twice, and a test in two shards', () => {
    const run = (id: string, shard: { index: number; count: number } | null, title = id, lab = 'synthetic') => {
      const results = syntheticRun(id, '2026-01-01T02:00:00.000Z', [{ title, outcome: 'PASS' }], { shard, lab: { name: lab, kind: 'virtual', file: 'x' } });
      return { runDir: join(dir, id), results };
    };
    const attempt = (shards: ReturnType<typeof run>[]) => () => mergeShards(shards, 'm', join(dir, 'm'));
    expect(attempt([run('r1', { index: 1, count: 2 }), run('r2', { index: 1, count: 3 })])).to.throw(ReportError, /r2 is shard 1\/3, r1 is shard 1\/2: merge shards of one split/);
    expect(attempt([run('r1', { index: 1, count: 2 }), run('r2', { index: 2, count: 2 }, 'r2', 'rack-7')])).to.throw(ReportError, /r2 ran on lab "rack-7", r1 on "synthetic"/);
    expect(attempt([run('r1', { index: 1, count: 2 }), run('r2', { index: 1, count: 2 })])).to.throw(ReportError, /r2 and r1 are both shard 1\/2/);
    expect(attempt([run('r1', { index: 1, count: 2 }, 'same'), run('r2', { index: 2, count: 2 }, 'same')])).to.throw(ReportError, /test "synthetic suite same" is in both r1 and r2/);
  });
});
