/**
 * What a QEMU build is made of, as far as the harness knows it (design.md §4 "QEMU builds are
 * data", §7 "identity over version numbers"). A binary the lab file only names has an identity of
 * kind `binary`: its version line is all that is known. A build the harness made from source knows
 * its base and, for every patch applied or left out, the upstream commit it came from (its
 * `From <sha>` line), so a bug's fix state can be read from the commits themselves.
 */
export type QemuBuildIdentity = BinaryBuildIdentity | SourceBuildIdentity;

export interface BinaryBuildIdentity {
  readonly kind: 'binary';
  /** The lab file's name for the build (qemu.<name>). */
  readonly name: string;
}

export interface SourceBuildIdentity {
  readonly kind: 'source';
  readonly name: string;
  /** The base source: a Debian source version ("1:10.2.2+ds-1"), a tarball or tree path, or a git URL and ref. */
  readonly base: string;
  /** Upstream commits of the patches applied, in order (full or abbreviated hashes from `From <sha>`). */
  readonly appliedCommits: readonly string[];
  /** Upstream commits of the patches the build description leaves out on purpose. */
  readonly leftOutCommits: readonly string[];
  /** Local fix-up patches applied after the upstream ones (file names): changes that are no upstream commit. */
  readonly localPatches: readonly string[];
  /** Hash of every input of the build (base, patches, apply modes, configure options): the cache key. */
  readonly inputsHash: string;
  /** The short form passed to configure --with-pkgversion, so QEMU's own version line carries it. */
  readonly pkgVersion: string;
}

/** Whether a build is known to carry an upstream commit: compares on the shorter hash's length (≥ 7). */
export function carriesCommit(identity: QemuBuildIdentity, commit: string): boolean | 'unknown' {
  if (identity.kind !== 'source') return 'unknown';
  const same = (a: string, b: string): boolean => {
    const n = Math.min(a.length, b.length);
    return n >= 7 && a.slice(0, n).toLowerCase() === b.slice(0, n).toLowerCase();
  };
  if (identity.appliedCommits.some((c) => same(c, commit))) return true;
  if (identity.leftOutCommits.some((c) => same(c, commit))) return false;
  return 'unknown';
}
