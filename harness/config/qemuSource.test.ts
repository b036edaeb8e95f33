import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from './ConfigError.js';
import { minimalLab, replaceLine } from '../../test/support/labFixture.js';
import { parseLab } from './loadLab.js';

/** qemu.default as a source build (line 24 of the minimal lab is "  default:"). */
function withSource(...lines: string[]): string {
  return minimalLab(replaceLine(25, lines.map((l) => `    ${l}`).join('\n')));
}

function problemsOf(text: string, file: string): string[] {
  try {
    parseLab(text, file);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.line}:${p.col} ${p.message}`);
    throw error;
  }
  return expect.fail('parseLab accepted a lab it should have refused');
}

describe('lab file: qemu.<name>.source', () => {
  let dir: string;
  let labFile: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hil-qemu-source-'));
    mkdirSync(path.join(dir, 'series'));
    mkdirSync(path.join(dir, 'labs'));
    writeFileSync(path.join(dir, 'series', '0001-a.patch'), 'From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n');
    writeFileSync(path.join(dir, 'fix.patch'), 'a local fix\n');
    labFile = path.join(dir, 'labs', 'lab.yaml');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a Debian base, a folder of patches with a per-file mode, a left-out patch and a local fix-up, with the defaults', () => {
    const lab = parseLab(withSource(
      'source:',
      '  base: { debian: "1:10.2.2+ds-1" }',
      '  patches:',
      '    - path: ../series',
      '      applyByFile: { 0001-a.patch: reduced-context }',
      '  leaveOut: [../series/0001-a.patch, { commit: ABCDEF1 }]',
      '  localPatches: [../fix.patch]',
      '  prefix: /opt/q',
    ), labFile);
    const build = lab.qemu['default']!;
    expect(build.binary).to.equal('/opt/q/bin/qemu-system-x86_64');
    expect(build.source).to.deep.equal({
      base: { kind: 'debian', version: '1:10.2.2+ds-1', suite: 'unstable' },
      patches: [{ path: path.join(dir, 'series'), apply: 'exact', applyByFile: { '0001-a.patch': 'reduced-context' } }],
      leaveOut: [{ kind: 'file', path: path.join(dir, 'series', '0001-a.patch') }, { kind: 'commit', commit: 'abcdef1' }],
      localPatches: [{ path: path.join(dir, 'fix.patch'), apply: 'exact', applyByFile: {} }],
      configure: [],
      targets: ['x86_64-softmmu'],
      buildOn: 'controller',
      prefix: '/opt/q',
    });
    expect(lab.cacheDir).to.equal('/var/cache/vfio-hil');
  });

  it('names file:line and key for a patch that is not there', () => {
    const problems = problemsOf(withSource('source:', '  base: { debian: "1:10.2.2+ds-1" }', '  patches: [../series, ../missing.patch]', '  prefix: /opt/q'), labFile);
    expect(problems).to.deep.equal([`27:28 qemu.default.source.patches[1] names ${path.join(dir, 'missing.patch')}, which does not exist; give a file or folder relative to ${path.join(dir, 'labs')}`]);
  });

  it('refuses a build with both binary and source, one with two bases, and a git base without ref', () => {
    const problems = problemsOf(withSource(
      'binary: /usr/bin/qemu-system-x86_64',
      'source:',
      '  base: { debian: "1:10.2.2+ds-1", git: "https://example.invalid/qemu.git" }',
      '  prefix: /opt/q',
    ), labFile);
    expect(problems).to.include('27:7 qemu.default.source cannot be set together with binary; a build is either installed (binary) or built by the harness (source)');
    expect(problems).to.include('27:7 qemu.default.source.base needs ref with git (the branch or tag to build)');
    expect(problems.some((p) => p.includes('qemu.default.source.base.git cannot be set together with debian'))).to.equal(true);
  });

  it('refuses a build with neither binary nor source', () => {
    expect(problemsOf(withSource('minVersion: "10.0"'), labFile)).to.deep.equal(['24:3 qemu.default needs binary (a QEMU installed on the hosts) or source (a build the harness makes)']);
  });

  it('refuses an unknown apply mode through the schema', () => {
    const problems = problemsOf(withSource('source:', '  base: { debian: "1:10.2.2+ds-1" }', '  patches: [{ path: ../series, apply: loose }]', '  prefix: /opt/q'), labFile);
    expect(problems.join('\n')).to.match(/patches\[0\]/);
  });
});
