import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QemuBuildSpec, QemuSourceSpec } from './types.js';
import { identityOf, planQemuBuild } from './buildPlan.js';
import { upstreamCommitOf } from './patchFiles.js';
import { carriesCommit } from './QemuBuildIdentity.js';
import { nearestEntry } from '../qemu/builds/QemuBuilder.js';
import { QemuBuildError } from './QemuBuildError.js';

const SHA = (digit: string): string => digit.repeat(40);
const formatPatch = (sha: string, body = 'x'): string => `From ${sha} Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH] ${body}\n\n---\n`;

describe('QEMU source build plans', () => {
  let dir: string;
  let series: string;
  const build = (source: Partial<QemuSourceSpec>, name = 'b'): QemuBuildSpec => ({
    name, binary: '/opt/q/bin/qemu-system-x86_64',
    source: {
      base: { kind: 'debian', version: '1:10.2.2+ds-1', suite: 'unstable' }, patches: [], leaveOut: [], localPatches: [],
      configure: [], targets: ['x86_64-softmmu'], buildOn: 'controller', prefix: '/opt/q', ...source,
    },
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hil-plan-'));
    series = join(dir, 'series');
    mkdirSync(series);
    writeFileSync(join(series, '0001-a.patch'), formatPatch(SHA('a')));
    writeFileSync(join(series, '0002-b.patch'), formatPatch(SHA('b')));
    writeFileSync(join(series, '0003-c.patch'), formatPatch(SHA('c')));
    writeFileSync(join(series, 'README'), 'not a patch');
    writeFileSync(join(dir, 'fix.patch'), 'diff --git a/x b/x\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the upstream commit from a format-patch From line, and none from a plain diff or a mail header', () => {
    expect(upstreamCommitOf(formatPatch(SHA('d')))).to.equal(SHA('d'));
    expect(upstreamCommitOf('diff --git a/x b/x\n')).to.equal(null);
    expect(upstreamCommitOf('From: Someone <s@x>\n')).to.equal(null);
  });

  it('makes the identity from a folder in name order, less a left-out file, plus local fix-ups by name', () => {
    const plan = planQemuBuild(build({
      patches: [{ path: series, apply: 'exact', applyByFile: { '0003-c.patch': 'reduced-context' } }],
      leaveOut: [{ kind: 'file', path: join(series, '0002-b.patch') }],
      localPatches: [{ path: join(dir, 'fix.patch'), apply: 'exact', applyByFile: {} }],
    }));
    expect(plan.patches.map((p) => [p.name, p.mode, p.isLocal])).to.deep.equal([['0001-a.patch', 'exact', false], ['0003-c.patch', 'reduced-context', false], ['fix.patch', 'exact', true]]);
    expect(plan.identity).to.include({ kind: 'source', name: 'b', base: 'debian 1:10.2.2+ds-1 (unstable)' });
    expect(plan.identity.appliedCommits).to.deep.equal([SHA('a'), SHA('c')]);
    expect(plan.identity.leftOutCommits).to.deep.equal([SHA('b')]);
    expect(plan.identity.localPatches).to.deep.equal(['fix.patch']);
    expect(plan.identity.pkgVersion).to.equal(`vfio-hil ${plan.identity.inputsHash.slice(0, 12)} +2 upstream without ${SHA('b').slice(0, 12)} +1 local`);
    expect(plan.configureArgs.at(-1)).to.equal(`--with-pkgversion=${plan.identity.pkgVersion}`);
    expect(carriesCommit(plan.identity, 'bbbbbbb')).to.equal(false);
    expect(carriesCommit(plan.identity, 'ccccccccccccc')).to.equal(true);
    expect(carriesCommit(identityOf({ name: 'bin', binary: '/usr/bin/qemu-system-x86_64' }), 'ccccccc')).to.equal('unknown');
  });

  it('keys the cache on every input: same inputs, same key; a patch byte, an apply mode, a left-out commit or a configure option changes it; the name does not', () => {
    const base = { patches: [{ path: series, apply: 'exact' as const, applyByFile: {} }] };
    const key = planQemuBuild(build(base)).identity.inputsHash;
    expect(planQemuBuild(build(base, 'other-name')).identity.inputsHash).to.equal(key);
    expect(planQemuBuild(build({ ...base, configure: ['--enable-debug'] })).identity.inputsHash).to.not.equal(key);
    expect(planQemuBuild(build({ patches: [{ path: series, apply: 'fuzz', applyByFile: {} }] })).identity.inputsHash).to.not.equal(key);
    expect(planQemuBuild(build({ ...base, leaveOut: [{ kind: 'commit', commit: 'deadbeef' }] })).identity.inputsHash).to.not.equal(key);
    // Another prefix is another install, but the same tree: it can start from this build's.
    const otherPrefix = planQemuBuild(build({ ...base, prefix: '/opt/other' }));
    expect(otherPrefix.identity.inputsHash).to.not.equal(key);
    expect(otherPrefix.treeKey).to.equal(planQemuBuild(build(base)).treeKey);
    writeFileSync(join(series, '0002-b.patch'), formatPatch(SHA('b'), 'y'));
    expect(planQemuBuild(build(base)).identity.inputsHash).to.not.equal(key);
  });

  it('starts an incremental build from the cached build with the most of its patches, never from one with a patch it lacks', () => {
    const full = planQemuBuild(build({ patches: [{ path: series, apply: 'exact', applyByFile: {} }] }));
    const [a, b, c] = full.patches.map((p) => p.sha256) as [string, string, string];
    const record = (shas: string[], name: string, treeKey = full.treeKey) => ({ dir: `/cache/${name}`, record: { treeKey, patchShas: shas, identity: { ...full.identity, name } } });
    const nearest = nearestEntry(full, [record([a], 'one'), record([a, c], 'two'), record([a, b, c, 'e'], 'extra'), record([a, b], 'other-base', 'x')]);
    expect(nearest?.dir).to.equal('/cache/two');
    expect(nearest?.missing.map((p) => p.name)).to.deep.equal(['0002-b.patch']);
    expect(nearestEntry(full, [record(['e'], 'unrelated')])).to.equal(undefined);
  });

  it('refuses an upstream patch without a From line, which the identity could not name', () => {
    expect(() => planQemuBuild(build({ patches: [{ path: join(dir, 'fix.patch'), apply: 'exact', applyByFile: {} }] }))).to.throw(QemuBuildError, 'has no "From <sha>" line');
  });
});
