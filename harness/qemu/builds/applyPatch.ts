import { runChecked } from '../../LocalRunner.js';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import type { ResolvedPatch } from '../../config/patchFiles.js';
import { QemuBuildError } from '../../config/QemuBuildError.js';

/** Where a patch stopped applying: the file it patches and the hunk (1-based within that file). */
export interface PatchFailure {
  readonly file: string | null;
  readonly hunk: number | null;
  /** The hunk's header ("@@ -2345,7 +2345,9 @@ static void ..."), when it was found in the patch. */
  readonly hunkHeader: string | null;
}

/** The hunk headers of each file a patch touches, in order. */
export function hunksByFile(patchText: string): Map<string, string[]> {
  const hunks = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of patchText.split('\n')) {
    const diff = /^diff --git a\/(\S+) b\/(\S+)/.exec(line);
    if (diff !== null) {
      current = [];
      hunks.set(diff[2]!, current);
    } else if (line.startsWith('@@ ') && current !== undefined) {
      current.push(line);
    }
  }
  return hunks;
}

/**
 * Reads git apply's or patch(1)'s complaint: git names "patch failed: <file>:<line>" (the old start
 * line of the hunk, which identifies it in the patch), patch(1) names the file and "Hunk #n FAILED".
 */
export function parseApplyFailure(patchText: string, output: string): PatchFailure {
  const hunks = hunksByFile(patchText);
  const git = /patch failed: (.+):(\d+)\s*$/m.exec(output);
  if (git !== null) {
    const file = git[1]!;
    const line = Number(git[2]);
    const headers = hunks.get(file) ?? [];
    const index = headers.findIndex((h) => Number(/^@@ -(\d+)/.exec(h)?.[1]) === line);
    return { file, hunk: index < 0 ? null : index + 1, hunkHeader: index < 0 ? null : headers[index]! };
  }
  const missing = /error: (\S+): (?:No such file or directory|does not exist in index)/.exec(output);
  if (missing !== null) return { file: missing[1]!, hunk: null, hunkHeader: null };
  let file: string | null = null;
  for (const line of output.split('\n')) {
    const patching = /^(?:checking|patching) file '?([^']+?)'?$/.exec(line.trim());
    if (patching !== null) file = patching[1]!;
    const failed = /^Hunk #(\d+) FAILED/.exec(line.trim());
    if (failed !== null) {
      const hunk = Number(failed[1]);
      const header = file === null ? undefined : hunks.get(file)?.[hunk - 1];
      return { file, hunk, hunkHeader: header ?? null };
    }
  }
  return { file, hunk: null, hunkHeader: null };
}

/** The check and apply commands for one mode; the check changes nothing, so a failed patch leaves the tree whole. */
export function applyCommands(mode: ResolvedPatch['mode'], patchPath: string): { check: string; apply: string } {
  switch (mode) {
    case 'exact': return { check: sh`git apply --check --verbose ${patchPath}`, apply: sh`git apply ${patchPath}` };
    case 'reduced-context': return { check: sh`git apply -C1 --check --verbose ${patchPath}`, apply: sh`git apply -C1 ${patchPath}` };
    case 'fuzz': return { check: sh`patch -p1 -F2 --dry-run --no-backup-if-mismatch -i ${patchPath}`, apply: sh`patch -p1 -F2 --no-backup-if-mismatch -i ${patchPath}` };
  }
}

/**
 * Applies one patch in `treeDir` on the build machine (the patch was copied to `patchPath` there).
 * A patch that does not apply is a lab error naming the patch file, the file and the hunk.
 */
export async function applyPatch(runner: CommandRunner, treeDir: string, patch: ResolvedPatch, patchPath: string): Promise<void> {
  const { check, apply } = applyCommands(patch.mode, patchPath);
  // GIT_CEILING_DIRECTORIES: git apply must treat the tree as plain files even under some repository.
  const inTree = (command: string): string => sh`cd ${treeDir} && GIT_CEILING_DIRECTORIES=${treeDir} ` + command;
  const checked = await runner.run(inTree(check), { timeoutMs: 120_000 });
  if (checked.exitCode !== 0) {
    const output = `${checked.stdout}\n${checked.stderr}`;
    const failure = parseApplyFailure(patch.text, output);
    const where = failure.file === null ? 'a file it patches' : failure.hunk === null ? failure.file : `hunk #${failure.hunk} of ${failure.file}${failure.hunkHeader === null ? '' : ` (${failure.hunkHeader})`}`;
    const hint = patch.mode === 'exact'
      ? 'its context may have moved in this base: try apply: reduced-context for it, or a local fix-up patch'
      : patch.mode === 'reduced-context' ? 'try apply: fuzz, or a local fix-up patch' : 'it needs a backport: write a local fix-up patch';
    throw new QemuBuildError(
      'QEMU_PATCH_DOES_NOT_APPLY',
      `Patch ${patch.file} does not apply (${patch.mode}) on ${runner.where}: ${where}; ${hint}.\n${output.trim().split('\n').slice(-12).join('\n')}`,
      { data: { patch: patch.file, mode: patch.mode, file: failure.file, hunk: failure.hunk, hunkHeader: failure.hunkHeader, output } },
    );
  }
  await runChecked(runner, inTree(apply), { timeoutMs: 120_000 });
}
