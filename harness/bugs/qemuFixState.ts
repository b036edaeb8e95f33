import type { QemuFacts } from '../host/HostFacts.js';
import { carriesCommit, type QemuBuildIdentity } from '../config/QemuBuildIdentity.js';
import type { BugReproduction } from './BugReproduction.js';

/** What the QEMU under test should show for a bug: from its build identity when that tells, else its version (and commit, when it names one). */
export interface FixState {
  readonly state: 'fixed' | 'unfixed' | 'unreachable' | 'unknown';
  readonly why: string;
}

type Version = readonly [number, number, number];

export function parseQemuVersion(text: string | null): Version | null {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  return match === null ? null : [Number(match[1]), Number(match[2]), Number(match[3] ?? '0')];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * QEMU numbers development trees x.y.50 and up (after release x.y, before the next); such a build
 * may or may not hold a fix merged in that cycle, so its state is unknown unless it names a fix
 * commit. A version line carrying `g<hash>` (git describe) names the commit it was built from.
 */
/** What preflight knows of the QEMU under test; `identity` when the lab built it (or named it). */
export type QemuUnderTest = Pick<QemuFacts, 'version' | 'versionLine'> & { readonly identity?: QemuBuildIdentity | null };

/**
 * Identity first (design.md §7): a source build lists the upstream commits it applied and left
 * out. All fix commits applied: fixed. One left out: unfixed when it carries what makes the path
 * reachable (`references.reachableWith`), unreachable when it leaves that out too. A commit the
 * identity does not mention says nothing (the base release may or may not have it): then the
 * version decides.
 */
function fixStateFromIdentity(identity: QemuBuildIdentity, bug: Pick<BugReproduction, 'fixedIn' | 'reachableFrom' | 'references'>, version: FixState): FixState | null {
  const fixCommits = bug.references.fixCommits;
  if (identity.kind !== 'source' || fixCommits.length === 0) return null;
  const build = `build ${identity.name} (${identity.base}${identity.appliedCommits.length > 0 ? ` + ${identity.appliedCommits.length} upstream patches` : ''}${identity.localPatches.length > 0 ? ` + local ${identity.localPatches.join(', ')}` : ''})`;
  const reachableWith = bug.references.reachableWith ?? [];
  const reach = reachableWith.map((c) => ({ commit: c, carried: carriesCommit(identity, c) }));
  const lacksReach = reach.find((r) => r.carried === false);
  if (lacksReach !== undefined) return { state: 'unreachable', why: `${build} leaves out ${lacksReach.commit}, without which the path cannot be reached${bug.reachableFrom !== undefined ? `: ${bug.reachableFrom.why}` : ''}` };
  const isReachableByIdentity = reach.length > 0 && reach.every((r) => r.carried === true);
  // Reachability the identity does not tell comes from the base's version.
  if (!isReachableByIdentity && version.state === 'unreachable') return { state: 'unreachable', why: `${build} does not say it applies ${reachableWith.join(', ') || 'what reaches the path'}, and ${version.why}` };
  const reached = isReachableByIdentity ? ` and applies ${reachableWith.join(', ')}, which makes the path reachable` : '';
  const fix = fixCommits.map((c) => ({ commit: c, carried: carriesCommit(identity, c) }));
  if (fix.every((f) => f.carried === true)) return { state: 'fixed', why: `${build} applies fix commit ${fixCommits.join(', ')}${reached}` };
  const lacking = fix.find((f) => f.carried === false);
  if (lacking === undefined) return null;
  return { state: 'unfixed', why: `${build} leaves out fix commit ${lacking.commit}${reached}` };
}

export function qemuFixState(qemu: QemuUnderTest, bug: Pick<BugReproduction, 'fixedIn' | 'reachableFrom' | 'references'>): FixState {
  const byVersion = qemuFixStateFromVersion(qemu, bug);
  const identity = qemu.identity ?? null;
  return (identity === null ? null : fixStateFromIdentity(identity, bug, byVersion)) ?? byVersion;
}

/** The fallback for builds of unknown content: the version number against `fixedIn` and `reachableFrom`. */
function qemuFixStateFromVersion(qemu: Pick<QemuFacts, 'version' | 'versionLine'>, bug: Pick<BugReproduction, 'fixedIn' | 'reachableFrom' | 'references'>): FixState {
  const version = parseQemuVersion(qemu.version);
  const line = qemu.versionLine ?? '';
  const named = bug.references.fixCommits.find((c) => new RegExp(`g${c.slice(0, 7)}`, 'i').test(line));
  if (named !== undefined) return { state: 'fixed', why: `the QEMU version line names fix commit ${named}: "${line}"` };
  if (version === null) return { state: 'unknown', why: `QEMU version not known (${qemu.version ?? 'none'})` };
  const shown = version.join('.');
  const reachable = bug.reachableFrom === undefined ? null : parseQemuVersion(bug.reachableFrom.version);
  if (reachable !== null && compare(version, reachable) < 0 && version[2] < 50) {
    return { state: 'unreachable', why: `QEMU ${shown} is older than ${bug.reachableFrom!.version}: ${bug.reachableFrom!.why}` };
  }
  if (bug.fixedIn.kind === 'always') {
    const since = parseQemuVersion(bug.fixedIn.sinceVersion)!;
    return compare(version, since) >= 0
      ? { state: 'fixed', why: `QEMU ${shown} ≥ ${bug.fixedIn.sinceVersion}: ${bug.fixedIn.note}` }
      : { state: 'unknown', why: `QEMU ${shown} predates ${bug.fixedIn.sinceVersion}, where the behaviour under test begins` };
  }
  const fixed = parseQemuVersion(bug.fixedIn.version)!;
  if (compare(version, fixed) >= 0) return { state: 'fixed', why: `QEMU ${shown} ≥ ${bug.fixedIn.version}: ${bug.fixedIn.note}` };
  // The release after x.y is x.(y+1) or (x+1).0: a x.y.5x tree is the cycle of that release.
  const isDevelopmentOfFixCycle = version[2] >= 50
    && ((fixed[0] === version[0] && fixed[1] === version[1] + 1) || (fixed[0] === version[0] + 1 && fixed[1] === 0));
  if (isDevelopmentOfFixCycle) return { state: 'unknown', why: `QEMU ${shown} is a development build of the cycle that released ${bug.fixedIn.version}: whether it has ${bug.references.fixCommits.join(', ')} is not known from its version` };
  return { state: 'unfixed', why: `QEMU ${shown} < ${bug.fixedIn.version}, which carries ${bug.references.fixCommits.join(', ')}` };
}
