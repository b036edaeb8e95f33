import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner } from '../../LocalRunner.js';
import { applyPatch, parseApplyFailure } from './applyPatch.js';
import type { ResolvedPatch } from '../../config/patchFiles.js';
import { QemuBuildError } from '../../config/QemuBuildError.js';

const FILE = ['#include "qemu/osdep.h"', '', 'static int one(void)', '{', '    return 1;', '}', '', 'static int two(void)', '{', '    return 2;', '}', ''].join('\n');

/** A format-patch file changing both functions: hunk 1 in one(), hunk 2 in two(). */
const PATCH = [
  'From 1234567890abcdef1234567890abcdef12345678 Mon Sep 17 00:00:00 2001',
  'Subject: [PATCH] hw: change one and two',
  '',
  '---',
  'diff --git a/hw/x.c b/hw/x.c',
  '--- a/hw/x.c',
  '+++ b/hw/x.c',
  '@@ -3,4 +3,4 @@',
  ' static int one(void)',
  ' {',
  '-    return 1;',
  '+    return 10;',
  ' }',
  '@@ -8,4 +8,4 @@',
  ' static int two(void)',
  ' {',
  '-    return 2;',
  '+    return 20;',
  ' }',
  '',
].join('\n');

function patchOf(text: string, mode: ResolvedPatch['mode'], file: string): ResolvedPatch {
  return { file, name: 'p.patch', mode, commit: '1234567890abcdef1234567890abcdef12345678', sha256: 'x', isLocal: false, text };
}

describe('applyPatch on a real tree', () => {
  let dir: string;
  let tree: string;
  let patchFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hil-apply-'));
    tree = join(dir, 'tree');
    mkdirSync(join(tree, 'hw'), { recursive: true });
    patchFile = join(dir, 'p.patch');
    writeFileSync(patchFile, PATCH);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies a patch whose context is there', async () => {
    writeFileSync(join(tree, 'hw', 'x.c'), FILE);
    await applyPatch(new LocalRunner(), tree, patchOf(PATCH, 'exact', patchFile), patchFile);
    expect(readFileSync(join(tree, 'hw', 'x.c'), 'utf8')).to.contain('return 10;').and.contain('return 20;');
  });

  for (const mode of ['exact', 'reduced-context', 'fuzz'] as const) {
    it(`names the patch file, the hunk and the file when a hunk does not apply (${mode}), and leaves the tree as it was`, async () => {
      // two() now returns 3: the second hunk's removed line is not there in any mode.
      const changed = FILE.replace('return 2;', 'return 3;');
      writeFileSync(join(tree, 'hw', 'x.c'), changed);
      const error = await applyPatch(new LocalRunner(), tree, patchOf(PATCH, mode, patchFile), patchFile).then(() => null, (e: unknown) => e);
      expect(error).to.be.instanceOf(QemuBuildError);
      const buildError = error as QemuBuildError;
      expect(buildError.code).to.equal('QEMU_PATCH_DOES_NOT_APPLY');
      expect(buildError.message).to.contain(`Patch ${patchFile} does not apply (${mode})`);
      expect(buildError.message).to.contain('hunk #2 of hw/x.c (@@ -8,4 +8,4 @@)');
      expect(buildError.data).to.include({ patch: patchFile, file: 'hw/x.c', hunk: 2 });
      expect(readFileSync(join(tree, 'hw', 'x.c'), 'utf8')).to.equal(changed);
    });
  }

  it('applies with reduced context a patch whose outer context line changed, which exact refuses', async () => {
    // The function line above the change differs (as 0027's first hunk names a function 10.2 lacks):
    // full context fails, one line of context on each side fits.
    const moved = FILE.replace('static int one(void)', 'static int one_renamed(void)');
    writeFileSync(join(tree, 'hw', 'x.c'), moved);
    const exact = await applyPatch(new LocalRunner(), tree, patchOf(PATCH, 'exact', patchFile), patchFile).then(() => null, (e: unknown) => e);
    expect((exact as QemuBuildError).data).to.include({ file: 'hw/x.c', hunk: 1 });
    await applyPatch(new LocalRunner(), tree, patchOf(PATCH, 'reduced-context', patchFile), patchFile);
    expect(readFileSync(join(tree, 'hw', 'x.c'), 'utf8')).to.contain('return 10;').and.contain('return 20;');
  });

  it('names the file when the patch touches one the tree lacks', async () => {
    const error = await applyPatch(new LocalRunner(), tree, patchOf(PATCH, 'exact', patchFile), patchFile).then(() => null, (e: unknown) => e);
    expect((error as QemuBuildError).data).to.include({ file: 'hw/x.c' });
  });
});

describe('parseApplyFailure', () => {
  it('reads patch(1)\'s "Hunk #n FAILED" under its "patching file" line', () => {
    expect(parseApplyFailure(PATCH, 'checking file hw/x.c\nHunk #2 FAILED at 8.\n1 out of 2 hunks FAILED\n')).to.deep.equal({ file: 'hw/x.c', hunk: 2, hunkHeader: '@@ -8,4 +8,4 @@' });
  });

  it('says nothing it cannot read from an output it does not know', () => {
    expect(parseApplyFailure(PATCH, 'something else went wrong')).to.deep.equal({ file: null, hunk: null, hunkHeader: null });
  });
});
