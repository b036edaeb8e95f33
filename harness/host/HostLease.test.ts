import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner } from '../LocalRunner.js';
import { HostLease } from './HostLease.js';
import { HostLeaseHeldError } from './HostLeaseError.js';
import { acquirePair } from './HostLeasePair.js';
import { describeLease, parseLeaseRecord } from './HostLeaseRecord.js';

// The lease scripts run by the controller's own shell in a temp folder: quick checks for the
// unit suite; HostLease.lab.test.ts runs the same over SSH on the lab hosts.
describe('HostLease (local shell, temp folder)', () => {
  const runner = new LocalRunner();
  let root: string;
  const made: HostLease[] = [];
  const lease = (host: string, runId: string, ttlMs = 60_000): HostLease => {
    const l = new HostLease(runner, { host, workDir: join(root, host), holder: { owner: 'me@ctl', runId, pid: 7 }, ttlMs, renewIntervalMs: 0 });
    made.push(l);
    return l;
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hil-lease-'));
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((l) => l.release()));
    rmSync(root, { recursive: true, force: true });
  });

  it('writes a readable record, private, and refuses a second holder by name', async () => {
    await lease('a', 'run-1').acquire();
    const text = readFileSync(join(root, 'a', 'lease'), 'utf8');
    expect(text).to.match(/^format=hil-lease-1\nowner=me@ctl\nrunId=run-1\npid=7\ntoken=[0-9a-f]{16}\nacquiredAtS=\d+\nrenewedAtS=\d+\nexpiresAtS=\d+\n$/);
    expect(statSync(join(root, 'a', 'lease')).mode & 0o777).to.equal(0o600);
    expect(statSync(join(root, 'a')).mode & 0o777).to.equal(0o700);
    const record = parseLeaseRecord(text)!;
    expect(record.expiresAtS - record.acquiredAtS).to.equal(60);
    expect(describeLease(record, record.acquiredAtS + 5)).to.match(/^me@ctl \(run run-1, pid 7\) since \S+Z, expires \S+Z \(in 55 s, host clock\)$/);
    const error = await lease('a', 'run-2').acquire().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(HostLeaseHeldError);
    expect((error as Error).message).to.match(/^a \(controller\) is leased by me@ctl \(run run-1, pid 7\)/);
  });

  it('treats a damaged lease file as stale and takes it over', async () => {
    const taker = lease('a', 'run-2');
    await runner.run(`mkdir -p ${join(root, 'a')} && echo garbage > ${join(root, 'a', 'lease')}`);
    expect((await taker.tryAcquire()).isAcquired).to.equal(true);
    expect((await HostLease.read(runner, join(root, 'a'))).record?.runId).to.equal('run-2');
  });

  it('gives the first host back when the second of a pair is taken', async () => {
    await lease('b', 'other').acquire();
    const error = await acquirePair(lease('b', 'mine'), lease('a', 'mine')).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(HostLeaseHeldError).with.property('host', 'b');
    expect((await HostLease.read(runner, join(root, 'a'))).hasLeaseFile).to.equal(false);
  });
});
