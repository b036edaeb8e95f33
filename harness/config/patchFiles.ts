import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { PatchApplyMode, PatchEntrySpec } from './types.js';
import { QemuBuildError } from './QemuBuildError.js';

/** One patch file as the build applies it. */
export interface ResolvedPatch {
  /** Absolute path on the controller. */
  readonly file: string;
  readonly name: string;
  readonly mode: PatchApplyMode;
  /** The upstream commit from the patch's `From <sha>` line; null for a local patch without one. */
  readonly commit: string | null;
  /** sha256 of the file's bytes: part of the build's cache key. */
  readonly sha256: string;
  readonly isLocal: boolean;
  readonly text: string;
}

/** `From <40 hex> Mon Sep 17 00:00:00 2001`: the first line git format-patch writes. */
const FROM_LINE = /^From ([0-9a-f]{40}) /m;

/** The upstream commit a format-patch file came from, or null when it has no From line. */
export function upstreamCommitOf(text: string): string | null {
  return FROM_LINE.exec(text)?.[1] ?? null;
}

/** The files of one entry: the file itself, or a folder's *.patch / *.diff files in name order. */
export function entryFiles(entry: PatchEntrySpec): string[] {
  if (!statSync(entry.path).isDirectory()) return [entry.path];
  return readdirSync(entry.path).filter((f) => /\.(patch|diff)$/.test(f)).sort().map((f) => join(entry.path, f));
}

/**
 * The ordered patches of a build: upstream entries first (less the files left out), then the lab's
 * local ones. An upstream patch must carry its From line, since the build's identity is made of them.
 */
export function resolvePatches(upstream: readonly PatchEntrySpec[], local: readonly PatchEntrySpec[], leftOutFiles: readonly string[]): ResolvedPatch[] {
  const leftOut = new Set(leftOutFiles);
  const resolve = (entry: PatchEntrySpec, isLocal: boolean): ResolvedPatch[] =>
    entryFiles(entry).filter((f) => !leftOut.has(f)).map((file) => {
      const bytes = readFileSync(file);
      const text = bytes.toString('utf8');
      const commit = upstreamCommitOf(text);
      if (!isLocal && commit === null) {
        throw new QemuBuildError('QEMU_PATCH_NO_COMMIT', `Patch ${file} has no "From <sha>" line (git format-patch output has one): the build's identity needs the upstream commit of every upstream patch; list it under localPatches if it is the lab's own change`, { data: { file } });
      }
      const name = basename(file);
      return { file, name, mode: entry.applyByFile[name] ?? entry.apply, commit, sha256: createHash('sha256').update(bytes).digest('hex'), isLocal, text };
    });
  return [...upstream.flatMap((e) => resolve(e, false)), ...local.flatMap((e) => resolve(e, true))];
}

/** The commit of a left-out patch file, read from its From line. */
export function leftOutCommitOf(file: string): string {
  const commit = upstreamCommitOf(readFileSync(file, 'utf8'));
  if (commit === null) throw new QemuBuildError('QEMU_PATCH_NO_COMMIT', `Patch ${file} under leaveOut has no "From <sha>" line: give its commit as { commit: <sha> } instead`, { data: { file } });
  return commit;
}
