import { hostname, userInfo } from 'node:os';

/** Who holds (or wants) a host: shown to anyone who finds the host taken. */
export interface LeaseHolder {
  /** user@controller-host */
  readonly owner: string;
  readonly runId: string;
  /** Of the controller process. */
  readonly pid: number;
}

/**
 * A lease as stored in `<workDir>/lease` (key=value lines). Times are epoch seconds on the HOST's
 * clock: every controller compares them against the host's `date`, so controllers with skewed
 * clocks still agree on who holds it.
 */
export interface LeaseRecord extends LeaseHolder {
  /** Identifies one HostLease object; renew/release only touch a lease carrying their token. */
  readonly token: string;
  readonly acquiredAtS: number;
  readonly renewedAtS: number;
  readonly expiresAtS: number;
}

export const LEASE_FORMAT_TAG = 'hil-lease-1';

/** The holder for this controller process. */
export function leaseHolder(runId: string): LeaseHolder {
  return { owner: `${userInfo().username}@${hostname()}`, runId, pid: process.pid };
}

/** A lease file's text as a record; null when it is not one (damaged files are taken over as stale). */
export function parseLeaseRecord(text: string): LeaseRecord | null {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0 && !fields.has(line.slice(0, at))) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  const integer = (key: string): number | null => {
    const value = fields.get(key);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
  };
  const [pid, acquiredAtS, renewedAtS, expiresAtS] = [integer('pid'), integer('acquiredAtS'), integer('renewedAtS'), integer('expiresAtS')];
  const [owner, runId, token] = [fields.get('owner'), fields.get('runId'), fields.get('token')];
  if (fields.get('format') !== LEASE_FORMAT_TAG || owner === undefined || runId === undefined || token === undefined) return null;
  if (pid === null || acquiredAtS === null || renewedAtS === null || expiresAtS === null) return null;
  return { owner, runId, pid, token, acquiredAtS, renewedAtS, expiresAtS };
}

/** A value that cannot break the one-key-per-line format. */
export function leaseFieldValue(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

function hostTime(epochS: number): string {
  return new Date(epochS * 1000).toISOString().replace('.000Z', 'Z');
}

/** "root@ctl (run r1, pid 42) since 2026-11-24T13:00:00Z, expires 2026-11-24T13:02:00Z (in 95 s)". */
export function describeLease(record: LeaseRecord, hostNowS: number): string {
  const remainingS = record.expiresAtS - hostNowS;
  const expiry = remainingS > 0 ? `in ${remainingS} s` : `${-remainingS} s ago`;
  return `${record.owner} (run ${record.runId}, pid ${record.pid}) since ${hostTime(record.acquiredAtS)}, expires ${hostTime(record.expiresAtS)} (${expiry}, host clock)`;
}
