import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { QemuBuildSpec, QemuSourceBase, QemuSourceSpec } from './types.js';
import type { BinaryBuildIdentity, SourceBuildIdentity, QemuBuildIdentity } from './QemuBuildIdentity.js';
import { leftOutCommitOf, resolvePatches, type ResolvedPatch } from './patchFiles.js';

/** Everything a source build needs, read from the lab file's description and the patch files. */
export interface QemuBuildPlan {
  readonly name: string;
  readonly spec: QemuSourceSpec;
  readonly patches: readonly ResolvedPatch[];
  readonly identity: SourceBuildIdentity;
  /**
   * What every build sharing a base and configure options has in common: builds with the same tree
   * key can be made from one another by applying patches (an incremental build). The prefix is not
   * part of it: QEMU finds its data and firmware relative to its binary (get_relocated_path), so a
   * tree configured for one prefix serves a build installed under another.
   */
  readonly treeKey: string;
  /** Hash of the base alone: builds of one base share its unpacked archive. */
  readonly baseKey: string;
  /** configure's arguments, --with-pkgversion last. */
  readonly configureArgs: readonly string[];
}

/**
 * The harness's configure defaults: only the emulator, nothing downloaded, firmware from the hosts'
 * packages; Debian's own Python, whose meson and pycotap the build tools step installs (a python3
 * earlier on PATH, such as a pyenv shim, has neither).
 */
export const DEFAULT_CONFIGURE = ['--python=/usr/bin/python3', '--disable-docs', '--disable-werror', '--disable-tools', '--disable-guest-agent', '--disable-download', '--disable-install-blobs'] as const;

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** A base as the identity names it: "debian 1:10.2.2+ds-1 (unstable)", a path, or "url@ref". */
export function describeBase(base: QemuSourceBase): string {
  switch (base.kind) {
    case 'debian': return `debian ${base.version} (${base.suite})`;
    case 'tarball': return `tarball ${base.path}`;
    case 'tree': return `tree ${base.path}`;
    case 'git': return `git ${base.url}@${base.ref}`;
  }
}

/** The part of the base that goes into the cache key: a tarball's bytes, not its path. */
function baseKey(base: QemuSourceBase): unknown {
  if (base.kind === 'tarball') return { kind: 'tarball', sha256: sha256(readFileSync(base.path)) };
  return base;
}

/**
 * The short identity QEMU's own version line carries ("QEMU emulator version 10.2.2 (<this>)"):
 * the inputs hash, how many upstream patches, the commits left out and the local changes by count.
 */
export function pkgVersionOf(inputsHash: string, appliedCount: number, leftOut: readonly string[], localCount: number): string {
  const parts = [`vfio-hil ${inputsHash.slice(0, 12)}`, `+${appliedCount} upstream`];
  if (leftOut.length > 0) parts.push(`without ${leftOut.map((c) => c.slice(0, 12)).join(',')}`);
  if (localCount > 0) parts.push(`+${localCount} local`);
  return parts.join(' ');
}

export function planQemuBuild(build: QemuBuildSpec): QemuBuildPlan {
  const spec = build.source;
  if (spec === undefined) throw new Error(`planQemuBuild: qemu.${build.name} is not a source build`);
  const leftOutFiles = spec.leaveOut.flatMap((l) => (l.kind === 'file' ? [l.path] : []));
  const patches = resolvePatches(spec.patches, spec.localPatches, leftOutFiles);
  const leftOutCommits = spec.leaveOut.map((l) => (l.kind === 'file' ? leftOutCommitOf(l.path) : l.commit));
  const baseHash = sha256(JSON.stringify(baseKey(spec.base)));
  const treeKey = sha256(JSON.stringify({ base: baseHash, configure: spec.configure, targets: spec.targets, defaults: DEFAULT_CONFIGURE }));
  // Left-out commits change no byte of the tree, but they are part of what the build claims to be.
  const inputsHash = sha256(JSON.stringify({ treeKey, patches: patches.map((p) => ({ sha256: p.sha256, mode: p.mode })), leftOutCommits, prefix: spec.prefix }));
  const upstream = patches.filter((p) => !p.isLocal);
  const local = patches.filter((p) => p.isLocal);
  const pkgVersion = pkgVersionOf(inputsHash, upstream.length, leftOutCommits, local.length);
  const identity: SourceBuildIdentity = {
    kind: 'source',
    name: build.name,
    base: describeBase(spec.base),
    appliedCommits: upstream.map((p) => p.commit!),
    leftOutCommits,
    localPatches: local.map((p) => p.name),
    inputsHash,
    pkgVersion,
  };
  const configureArgs = [
    `--prefix=${spec.prefix}`, `--target-list=${spec.targets.join(',')}`, ...DEFAULT_CONFIGURE, ...spec.configure, `--with-pkgversion=${pkgVersion}`,
  ];
  return { name: build.name, spec, patches, identity, treeKey, baseKey: baseHash, configureArgs };
}

/** The identity of any build of the lab file: a source build's from its plan, a binary's by name only. */
export function identityOf(build: QemuBuildSpec): QemuBuildIdentity {
  if (build.source === undefined) return { kind: 'binary', name: build.name } satisfies BinaryBuildIdentity;
  return planQemuBuild(build).identity;
}
