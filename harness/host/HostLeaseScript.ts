import { posix } from 'node:path';
import { sh } from '../shell.js';
import { LEASE_FORMAT_TAG, leaseFieldValue, parseLeaseRecord, type LeaseHolder, type LeaseRecord } from './HostLeaseRecord.js';

export type LeaseAction = 'acquire' | 'renew' | 'release' | 'break';
/** free: no lease; ours: carries our token; held: another's, not expired; stale: another's, expired or unreadable. */
export type LeaseState = 'free' | 'ours' | 'held' | 'stale';
export type LeaseOutcome = 'acquired' | 'renewed' | 'released' | 'broken' | 'refused' | 'absent';

export interface LeaseScriptParams {
  readonly workDir: string;
  readonly holder: LeaseHolder;
  readonly token: string;
  readonly ttlS: number;
}

/** A lease lock older than this was left by a shell that died inside the (millisecond) critical section. */
const STALE_LOCK_S = 30;

export function leaseFiles(workDir: string): { lease: string; lock: string } {
  return { lease: posix.join(workDir, 'lease'), lock: posix.join(workDir, 'lease.lock') };
}

/**
 * One shell script per lease operation. Every decision and every time is taken ON the host under
 * a `mkdir` lock (atomic on any POSIX filesystem), and the new lease is written to a temp file
 * and renamed into place, so a reader never sees half a lease and two acquirers never both win.
 * It prints `now=`, `state=`, `result=` and, when there was a lease, `--- lease` and its text.
 */
export function leaseScript(action: LeaseAction, params: LeaseScriptParams): string {
  const { lease, lock } = leaseFiles(params.workDir);
  const { holder } = params;
  const writeLease = sh`printf '%s\\n' ${`format=${LEASE_FORMAT_TAG}`} ${`owner=${leaseFieldValue(holder.owner)}`} ${`runId=${leaseFieldValue(holder.runId)}`} ` +
    sh`${`pid=${holder.pid}`} ${`token=${params.token}`} "acquiredAtS=$acquired" "renewedAtS=$now" "expiresAtS=$((now + ${params.ttlS}))" > "$tmp" && mv -f -- "$tmp" "$lease"`;
  const decide: Record<LeaseAction, string> = {
    acquire: `case $state in held) result=refused;; *) acquired=$now; [ "$state" = ours ] && acquired=$(field acquiredAtS); ${writeLease} && result=acquired;; esac`,
    renew: `if [ "$state" = ours ]; then acquired=$(field acquiredAtS); ${writeLease} && result=renewed; else result=refused; fi`,
    release: 'case $state in ours) rm -f -- "$lease" && result=released;; free) result=absent;; *) result=refused;; esac',
    break: 'if [ "$state" = free ]; then result=absent; else rm -f -- "$lease" && result=broken; fi',
  };
  return [
    'umask 077',
    sh`d=${params.workDir}; lease=${lease}; lock=${lock}; token=${params.token}`,
    'tmp="$lease.tmp.$$"',
    'mkdir -p -m 0700 -- "$d" || exit 70',
    'tries=0',
    'until mkdir -m 0700 -- "$lock" 2>/dev/null; do',
    '  tries=$((tries + 1))',
    '  if [ "$tries" -gt 400 ]; then echo "the lease lock $lock stayed taken for 20 s; if no harness works on this host, remove it: rmdir $lock" >&2; exit 75; fi',
    // A racing breaker may remove a fresh lock here; only after a shell died holding one for 30 s.
    `  if [ $(( $(date +%s) - $(stat -c %Y -- "$lock" 2>/dev/null || date +%s) )) -gt ${STALE_LOCK_S} ]; then rmdir -- "$lock" 2>/dev/null; fi`,
    '  sleep 0.05',
    'done',
    'trap \'rmdir -- "$lock"\' EXIT',
    'trap \'exit 129\' HUP INT TERM',
    'now=$(date +%s)',
    'field() { sed -n "s/^$1=//p" "$lease" | head -n 1; }',
    'state=free',
    'if [ -e "$lease" ]; then',
    '  if [ "$(field token)" = "$token" ]; then state=ours',
    '  else exp=$(field expiresAtS); case $exp in ""|*[!0-9]*) state=stale;; *) if [ "$exp" -gt "$now" ]; then state=held; else state=stale; fi;; esac; fi',
    '  previous=$(cat -- "$lease")',
    'fi',
    'result=',
    decide[action],
    '[ -n "$result" ] || exit 71',
    'printf "now=%s\\nstate=%s\\nresult=%s\\n" "$now" "$state" "$result"',
    'if [ "$state" != free ]; then printf -- "--- lease\\n%s\\n" "$previous"; fi',
  ].join('\n');
}

/** Reads the lease without taking the lock: the rename makes every read whole. */
export function readLeaseScript(workDir: string): string {
  const { lease } = leaseFiles(workDir);
  return sh`now=$(date +%s); printf 'now=%s\\n' "$now"; if [ -e ${lease} ]; then printf -- '--- lease\\n'; cat -- ${lease}; fi`;
}

export interface LeaseScriptOutput {
  readonly hostNowS: number;
  readonly state: LeaseState | null;
  readonly result: LeaseOutcome | null;
  /** The lease found before the operation (null: none, or not readable as a lease). */
  readonly previous: LeaseRecord | null;
  readonly hasPrevious: boolean;
}

export function parseLeaseScriptOutput(stdout: string): LeaseScriptOutput {
  const [head = '', body] = stdout.split(/^--- lease\n/m);
  const value = (key: string): string | null => new RegExp(`^${key}=(.*)$`, 'm').exec(head)?.[1] ?? null;
  const hostNowS = Number(value('now'));
  if (!Number.isInteger(hostNowS)) throw new Error(`lease script printed no host time: ${JSON.stringify(stdout.slice(0, 300))}`);
  return {
    hostNowS,
    state: value('state') as LeaseState | null,
    result: value('result') as LeaseOutcome | null,
    previous: body === undefined ? null : parseLeaseRecord(body),
    hasPrevious: body !== undefined,
  };
}
