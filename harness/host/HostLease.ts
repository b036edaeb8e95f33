import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import type { CommandResult, CommandRunner } from '../runner.js';
import { HostLeaseError, HostLeaseHeldError } from './HostLeaseError.js';
import { describeLease, type LeaseHolder, type LeaseRecord } from './HostLeaseRecord.js';
import { leaseFiles, leaseScript, parseLeaseScriptOutput, readLeaseScript, type LeaseAction, type LeaseScriptOutput } from './HostLeaseScript.js';

export interface HostLeaseOptions {
  /** The host's name in lab.yaml, for messages and for ordering a pair. */
  readonly host: string;
  /** hosts.<name>.workDir: the lease is `<workDir>/lease`. */
  readonly workDir: string;
  readonly holder: LeaseHolder;
  /** How long the lease lasts without renewal. Default 120 s; whole seconds on the host. */
  readonly ttlMs?: number;
  /** Automatic renewal while held; default a third of the TTL; 0 = renew by hand. */
  readonly renewIntervalMs?: number;
  readonly commandTimeoutMs?: number;
  /** Takeovers of expired leases and renewal trouble. */
  readonly onWarning?: (message: string) => void;
}

export type LeaseAttempt =
  | { readonly isAcquired: true; readonly tookOverFrom: LeaseRecord | null }
  | { readonly isAcquired: false; readonly heldBy: LeaseRecord; readonly hostNowS: number };

/**
 * The lease on one host (design.md §2: reserve a host pair). A second acquirer waits or fails
 * naming the holder; a lease past its expiry is taken over with a warning. While held it renews
 * itself; release() ends it. All decisions are made on the host (HostLeaseScript).
 */
export class HostLease {
  readonly file: string;
  private readonly token = randomBytes(8).toString('hex');
  private isHeldValue = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly runner: CommandRunner, private readonly options: HostLeaseOptions) {
    this.file = leaseFiles(options.workDir).lease;
  }

  get host(): string {
    return this.options.host;
  }

  get where(): string {
    return this.runner.where;
  }

  get isHeld(): boolean {
    return this.isHeldValue;
  }

  private get ttlS(): number {
    return Math.max(1, Math.ceil((this.options.ttlMs ?? 120_000) / 1000));
  }

  /** One attempt, no waiting. */
  tryAcquire(): Promise<LeaseAttempt> {
    return this.exclusive(async () => {
      let output = await this.runScript('acquire');
      if (output.result === 'refused' && output.previous !== null && isDeadRunOfThisController(output.previous, this.options.holder)) {
        // Its owner is this controller and its process is gone (SIGKILL, a second Ctrl-C): no one
        // will renew it, so waiting out its expiry would only delay the journal replay.
        this.warn(`Breaking the lease on ${this.host} (${this.where}) held by ${describeLease(output.previous, output.hostNowS)}: that process no longer exists on this controller.`);
        await HostLease.breakLease(this.runner, this.options.workDir, this.options.holder);
        output = await this.runScript('acquire');
      }
      if (output.result === 'refused') {
        if (output.previous === null) throw new HostLeaseError('LEASE_COMMAND_FAILED', `The lease on ${this.host} (${this.file}) was refused but could not be read`);
        return { isAcquired: false, heldBy: output.previous, hostNowS: output.hostNowS };
      }
      const tookOverFrom = output.state === 'stale' ? output.previous : null;
      if (output.state === 'stale') {
        const who = output.previous === null ? 'an unreadable lease file' : describeLease(output.previous, output.hostNowS);
        this.warn(`Took over the lease on ${this.host} (${this.where}) from ${who}: it had expired, so that run is presumed gone.`);
      }
      this.isHeldValue = true;
      this.startRenewing();
      return { isAcquired: true, tookOverFrom };
    });
  }

  /** Takes the lease, polling until `waitMs` has passed; fails naming the holder. */
  async acquire(options: { readonly waitMs?: number; readonly pollIntervalMs?: number } = {}): Promise<void> {
    const startedAt = Date.now();
    const deadline = startedAt + (options.waitMs ?? 0);
    for (;;) {
      const attempt = await this.tryAcquire();
      if (attempt.isAcquired) return;
      if (Date.now() >= deadline) throw new HostLeaseHeldError(this.host, this.where, attempt.heldBy, attempt.hostNowS, (options.waitMs ?? 0) > 0 ? Date.now() - startedAt : 0);
      await delay(Math.min(options.pollIntervalMs ?? 1000, Math.max(1, deadline - Date.now())));
    }
  }

  /** Pushes the expiry out by one TTL; fails if the lease is no longer ours. */
  renew(): Promise<void> {
    return this.exclusive(async () => {
      if (!this.isHeldValue) throw new HostLeaseError('LEASE_LOST', `Cannot renew the lease on ${this.host}: it is not held`);
      const output = await this.runScript('renew');
      if (output.result !== 'renewed') {
        this.isHeldValue = false;
        this.stopRenewing();
        const now = output.previous === null ? 'no one holds it now' : `it is now held by ${describeLease(output.previous, output.hostNowS)}`;
        throw new HostLeaseError('LEASE_LOST', `The lease on ${this.host} (${this.where}) was lost: ${now}. Another run may be using the host.`, {
          data: { host: this.host, holder: output.previous },
        });
      }
    });
  }

  /** Ends the lease (only if it is still ours: a lease taken over meanwhile is left to its new holder). */
  release(): Promise<void> {
    this.stopRenewing();
    return this.exclusive(async () => {
      if (!this.isHeldValue) return;
      this.isHeldValue = false;
      const output = await this.runScript('release');
      if (output.result === 'refused' && output.previous !== null) {
        this.warn(`Did not release the lease on ${this.host}: it is held by ${describeLease(output.previous, output.hostNowS)}, not by this run.`);
      }
    });
  }

  /** The lease on a host as it is now (null: none), with the host's clock. */
  static async read(runner: CommandRunner, workDir: string, options: { readonly timeoutMs?: number } = {}): Promise<{ record: LeaseRecord | null; hasLeaseFile: boolean; hostNowS: number }> {
    const output = parseLeaseScriptOutput(await runLeaseCommand(runner, readLeaseScript(workDir), options.timeoutMs ?? 60_000, 'read the lease'));
    return { record: output.previous, hasLeaseFile: output.hasPrevious, hostNowS: output.hostNowS };
  }

  /** Removes whatever lease a host has, by hand (`hil host lease --break`). Returns what it removed. */
  static async breakLease(runner: CommandRunner, workDir: string, holder: LeaseHolder, options: { readonly timeoutMs?: number } = {}): Promise<LeaseScriptOutput> {
    const script = leaseScript('break', { workDir, holder, token: randomBytes(8).toString('hex'), ttlS: 1 });
    return parseLeaseScriptOutput(await runLeaseCommand(runner, script, options.timeoutMs ?? 60_000, 'break the lease'));
  }

  private async runScript(action: LeaseAction): Promise<LeaseScriptOutput> {
    const script = leaseScript(action, { workDir: this.options.workDir, holder: this.options.holder, token: this.token, ttlS: this.ttlS });
    return parseLeaseScriptOutput(await runLeaseCommand(this.runner, script, this.options.commandTimeoutMs ?? 60_000, `${action} the lease on ${this.host}`));
  }

  private startRenewing(): void {
    const intervalMs = this.options.renewIntervalMs ?? Math.floor((this.ttlS * 1000) / 3);
    if (intervalMs <= 0 || this.renewTimer !== undefined) return;
    this.renewTimer = setInterval(() => {
      this.renew().catch((error: unknown) => this.warn(`Renewing the lease on ${this.host} failed: ${errorMessage(error)}`));
    }, intervalMs);
    // Renewal must never be what keeps a finished controller alive.
    this.renewTimer.unref();
  }

  private stopRenewing(): void {
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  private warn(message: string): void {
    this.options.onWarning?.(message);
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.tail.then(operation, operation);
    this.tail = next.then(() => undefined, () => undefined);
    return next;
  }
}

async function runLeaseCommand(runner: CommandRunner, script: string, timeoutMs: number, what: string): Promise<string> {
  let result: CommandResult;
  try {
    result = await runner.run(script, { timeoutMs });
  } catch (error) {
    throw new HostLeaseError('LEASE_COMMAND_FAILED', `Could not ${what} on ${runner.where}: ${errorMessage(error)}`, { cause: error, data: { where: runner.where } });
  }
  if (result.exitCode !== 0) {
    throw new HostLeaseError('LEASE_COMMAND_FAILED', `Could not ${what} on ${runner.where} (exit ${result.exitCode ?? `SIG${result.signal}`}): ${result.stderr.trim().slice(-1000) || '(no output)'}`, {
      data: { where: runner.where, exitCode: result.exitCode, stderr: result.stderr },
    });
  }
  return result.stdout;
}

/** A lease taken by a process of this same controller (same owner) that no longer exists. */
export function isDeadRunOfThisController(record: LeaseRecord, us: LeaseHolder): boolean {
  if (record.owner !== us.owner || record.pid === us.pid) return false;
  try {
    process.kill(record.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
