import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { posix } from 'node:path';
import { main } from '../cli/main.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandResult, CommandRunner, RunOptions } from '../runner.js';
import { sh } from '../shell.js';
import type { SshTransport } from '../ssh/SshTransport.js';
import { HostLease, type HostLeaseOptions } from './HostLease.js';
import { HostLeaseError, HostLeaseHeldError } from './HostLeaseError.js';
import { acquirePair } from './HostLeasePair.js';
import type { LeaseHolder } from './HostLeaseRecord.js';
import { LabHosts } from '../../test/support/labHosts.js';

/** Counts the commands that came back, so a test can wait until a waiter has really been refused once. */
class CountingRunner implements CommandRunner {
  count = 0;
  constructor(private readonly inner: CommandRunner) {}
  get where(): string {
    return this.inner.where;
  }
  async run(command: string, options?: RunOptions): Promise<CommandResult> {
    const result = await this.inner.run(command, options);
    this.count += 1;
    return result;
  }
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

describe('HostLease on virtual-lab hosts over SSH', function () {
  let hosts: LabHosts;
  const transports: Record<string, SshTransport> = {};
  const dirs: Record<string, string> = {};
  const leases: HostLease[] = [];
  const warnings: string[] = [];
  const alice: LeaseHolder = { owner: 'alice@ctl-1', runId: 'run-alice', pid: 111 };
  const bob: LeaseHolder = { owner: 'bob@ctl-2', runId: 'run-bob', pid: 222 };

  const lease = (host: 'host-a' | 'host-b', holder: LeaseHolder, options: Partial<HostLeaseOptions> = {}, runner?: CommandRunner): HostLease => {
    const made = new HostLease(runner ?? transports[host]!, { host, workDir: dirs[host]!, holder, onWarning: (w) => warnings.push(w), ...options });
    leases.push(made);
    return made;
  };
  const leaseFile = (host: string): string => posix.join(dirs[host]!, 'lease');
  const exists = async (host: string, path: string): Promise<boolean> => (await transports[host]!.run(sh`test -e ${path}`)).exitCode === 0;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    hosts = await LabHosts.open();
    for (const host of ['host-a', 'host-b']) transports[host] = await hosts.transport(host);
  });

  beforeEach(async () => {
    warnings.length = 0;
    // A folder that does not exist yet: the lease creates it, private.
    for (const host of ['host-a', 'host-b']) dirs[host] = posix.join(await hosts.scratchDir(host, 'lease'), 'work');
  });

  afterEach(async () => {
    await Promise.all(leases.splice(0).map((l) => l.release()));
  });

  after(async () => {
    await hosts?.close();
  });

  it('is a 0600 file in a 0700 folder, and a second acquirer is refused with who, run, since and expiry', async () => {
    await lease('host-a', alice).acquire();
    const modes = (await runChecked(transports['host-a']!, sh`stat -c %a ${dirs['host-a']!} ${leaseFile('host-a')}`)).stdout.split('\n');
    expect(modes.slice(0, 2)).to.deep.equal(['700', '600']);
    expect(await exists('host-a', posix.join(dirs['host-a']!, 'lease.lock'))).to.equal(false);

    const error = await lease('host-a', bob).acquire().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(HostLeaseHeldError);
    expect((error as Error).message).to.match(
      /^host-a \(root@10\.231\.0\.11:22\) is leased by alice@ctl-1 \(run run-alice, pid 111\) since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, expires \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 1[12]\d s, host clock\)\. Wait for it with --wait, .*`hil host lease --break --host host-a`/,
    );
    expect((error as HostLeaseHeldError).holder).to.deep.include(alice);
  });

  it('lets exactly one of several simultaneous acquirers win', async () => {
    const contenders = [1, 2, 3, 4, 5].map((n) => lease('host-a', { owner: `c${n}@ctl`, runId: `run-${n}`, pid: n }));
    const attempts = await Promise.all(contenders.map((c) => c.tryAcquire()));
    expect(attempts.filter((a) => a.isAcquired)).to.have.length(1);
    const winner = contenders.find((c) => c.isHeld)!;
    for (const attempt of attempts.filter((a) => !a.isAcquired)) {
      expect(attempt.isAcquired === false && attempt.heldBy.runId).to.equal(`run-${contenders.indexOf(winner) + 1}`);
    }
  });

  it('--wait: a waiter gets the host as soon as the holder releases it', async () => {
    const first = lease('host-a', alice);
    await first.acquire();
    const counting = new CountingRunner(transports['host-a']!);
    const waiter = lease('host-a', bob, {}, counting);
    const waiting = waiter.acquire({ waitMs: 20_000, pollIntervalMs: 100 });
    await until('the waiter to be refused once', () => counting.count >= 1 && !waiter.isHeld, 10_000);
    await first.release();
    // Resolving at all is the check: a waiter that missed the release would reject when its 20 s wait ran out.
    await waiting;
    expect(waiter.isHeld).to.equal(true);
    expect((await HostLease.read(transports['host-a']!, dirs['host-a']!)).record).to.deep.include(bob);
  });

  it('renews itself while held, so it never expires under its holder', async () => {
    const held = lease('host-a', alice, { ttlMs: 2000, renewIntervalMs: 300 });
    await held.acquire();
    const firstExpiry = (await HostLease.read(transports['host-a']!, dirs['host-a']!)).record!.expiresAtS;
    await until('a renewal to push the expiry out', async () => (await HostLease.read(transports['host-a']!, dirs['host-a']!)).record!.expiresAtS >= firstExpiry + 2, 10_000);
    expect((await lease('host-a', bob).tryAcquire()).isAcquired).to.equal(false);
    expect(warnings).to.deep.equal([]);
  });

  it('takes over a lease past its expiry (its holder died) with a warning naming the old holder', async () => {
    // No renewal: alice's controller "died" right after acquiring.
    await lease('host-a', alice, { ttlMs: 1000, renewIntervalMs: 0 }).acquire();
    const taker = lease('host-a', bob);
    await taker.acquire({ waitMs: 10_000, pollIntervalMs: 200 });
    expect(taker.isHeld).to.equal(true);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/^Took over the lease on host-a \(root@10\.231\.0\.11:22\) from alice@ctl-1 \(run run-alice, pid 111\) since .* \(\d+ s ago, host clock\): it had expired/);
  });

  it('notices a lease it lost, and never releases the new holder\'s lease', async () => {
    const lost = lease('host-a', alice, { renewIntervalMs: 0 });
    await lost.acquire();
    await HostLease.breakLease(transports['host-a']!, dirs['host-a']!, { owner: 'admin@ctl', runId: 'break', pid: 1 });
    await lease('host-a', bob).acquire();
    const error = await lost.renew().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(HostLeaseError);
    expect((error as HostLeaseError).code).to.equal('LEASE_LOST');
    expect((error as Error).message).to.include('it is now held by bob@ctl-2 (run run-bob, pid 222)');
    await lost.release();
    expect((await HostLease.read(transports['host-a']!, dirs['host-a']!)).record).to.deep.include(bob);
  });

  it('leases both hosts of a pair or neither', async () => {
    await lease('host-b', bob).acquire();
    const [a, b] = [lease('host-a', alice), lease('host-b', alice)];
    const error = await acquirePair(a, b).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(HostLeaseHeldError);
    expect((error as Error).message).to.match(/^host-b .* is leased by bob@ctl-2 \(run run-bob, pid 222\)/);
    // host-a was taken first (name order) and given back.
    expect(await exists('host-a', leaseFile('host-a'))).to.equal(false);
    expect([a.isHeld, b.isHeld]).to.deep.equal([false, false]);

    await leases.find((l) => l.host === 'host-b' && l.isHeld)!.release();
    const pair = await acquirePair(a, b, { waitMs: 5000 });
    expect(pair.isHeld).to.equal(true);
    expect((await HostLease.read(transports['host-a']!, dirs['host-a']!)).record).to.deep.include(alice);
    expect((await HostLease.read(transports['host-b']!, dirs['host-b']!)).record).to.deep.include(alice);
    await pair.release();
    expect([await exists('host-a', leaseFile('host-a')), await exists('host-b', leaseFile('host-b'))]).to.deep.equal([false, false]);
  });

  it('`hil host lease` shows the holder, and --break removes the lease', async () => {
    await lease('host-a', alice, { renewIntervalMs: 0 }).acquire();
    const labFile = hosts.labFileWithWorkDir('host-a', dirs['host-a']!);
    const cli = async (...args: string[]): Promise<string[]> => {
      const lines: string[] = [];
      await main(['node', 'hil', '--lab', labFile, 'host', 'lease', '--host', 'host-a', ...args], { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), setExitCode: () => undefined });
      return lines;
    };
    expect(await cli()).to.satisfy((lines: string[]) => lines.length === 1 && /^host-a: leased by alice@ctl-1 \(run run-alice, pid 111\) since /.test(lines[0]!));
    expect((await cli('--break'))[0]).to.match(/^host-a: broke the lease of alice@ctl-1 \(run run-alice, pid 111\)/);
    expect(await cli()).to.deep.equal(['host-a: free']);
  });
});
