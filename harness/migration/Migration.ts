import { controllerNowMs } from '../host/measureClockOffset.js';
import { errorMessage, HarnessError } from '../errors.js';
import { computeMeasurements } from './computeMeasurements.js';
import { outageBreakdown } from './outageBreakdown.js';
import type { MigrationProbe } from './MigrationProbe.js';
import type { MigrationRecord, MigrationSample, Side } from './MigrationRecord.js';
import { describePhase, isHookDue, judgeHooks, type HookOutcome, type PhaseHook } from './PhaseHook.js';
import type { QmpPeer } from './QmpPeer.js';
import { FINAL_STATUSES, sampleMigration } from './sampleMigration.js';
import { assertParametersKnown, migrationParameters, type MigrationRates } from './migrationParameters.js';

export interface MigrationEnd {
  readonly host: string;
  readonly vm: string;
  readonly qmp: QmpPeer;
  /** host clock − controller clock (preflight), ms. */
  readonly clockOffsetMs: number;
}

export interface MigrationOptions extends MigrationRates {
  readonly id: string;
  /** Where the destination listens: its migration address and port. */
  readonly listen: { readonly address: string; readonly port: number };
  /** Ask for switchover-ack where QEMU knows it (VFIO pre-copy devices use it). */
  readonly isSwitchoverAckWanted?: boolean;
  /** QEMU ≥ 9.1: keep the destination alive on a failed load to read its error. */
  readonly destinationExitOnError?: boolean;
  readonly extraCapabilities?: Readonly<Record<string, boolean>>;
  readonly sampleIntervalMs?: number;
  readonly timeoutMs: number;
  /** How long the destination may take to RESUME after the source completes. */
  readonly resumeTimeoutMs?: number;
  readonly hooks?: readonly PhaseHook[];
  readonly probe?: MigrationProbe;
  /** Sees each query-migrate sample as it is taken (terminal progress); must not throw. */
  readonly onSample?: (sample: MigrationSample) => void;
}

export class MigrationError extends HarnessError {}

const MIGRATION_EVENTS = new Set(['MIGRATION', 'MIGRATION_PASS', 'STOP', 'RESUME', 'VFIO_MIGRATION']);

/**
 * One live migration, source → destination, driven over QMP (design.md §2): same capabilities on
 * both ends, migrate-incoming, migrate, query-migrate sampled until a final state, phase hooks,
 * and on failure the source resumed. Everything lands in the MigrationRecord; run() resolves with
 * it whatever the outcome, and rejects when the lab itself fails (QMP gone) or when a phase hook
 * failed or never fired (a PhaseHookError that carries the finished record).
 */
export class Migration {
  readonly record: MigrationRecord;
  /** Per side, the seq of the next event not yet copied into the record. */
  private readonly nextEventSeq: Record<Side, number>;
  private readonly running: Promise<void>[] = [];
  private readonly hookOutcomes = new Map<PhaseHook, HookOutcome>();

  constructor(private readonly source: MigrationEnd, private readonly destination: MigrationEnd, private readonly options: MigrationOptions) {
    const capabilities: Record<string, boolean> = { events: true, 'return-path': true, ...options.extraCapabilities };
    if (options.hooks?.some((h) => h.at.kind === 'preSwitchover')) capabilities['pause-before-switchover'] = true;
    if (options.isSwitchoverAckWanted === true) capabilities['switchover-ack'] = true;
    this.record = {
      id: options.id,
      source: { host: source.host, vm: source.vm },
      destination: { host: destination.host, vm: destination.vm },
      uri: `tcp:${options.listen.address}:${options.listen.port}`,
      startedAtMs: controllerNowMs(), endedAtMs: 0,
      capabilities,
      parameters: migrationParameters(options),
      blockedReasons: [], outcome: null, reason: null, finalInfo: { source: null, destination: null },
      samples: [], events: [], hooks: [], isSourceResumed: null,
      clockOffsetMs: { source: source.clockOffsetMs, destination: destination.clockOffsetMs },
      probe: null, measurements: {},
    };
    this.nextEventSeq = { source: source.qmp.eventCursor, destination: destination.qmp.eventCursor };
  }

  async run(): Promise<MigrationRecord> {
    await this.prepare();
    const isStarted = await this.start();
    if (isStarted) await this.follow();
    await Promise.all(this.running);
    await this.finish();
    const hooks = (this.options.hooks ?? []).map((hook) => this.hookOutcomes.get(hook) ?? { hook, hasFired: false });
    const problem = judgeHooks(hooks, this.record);
    if (problem !== null) throw problem;
    return this.record;
  }

  /** Copies the migration-related events each side received since the last call into the record. */
  private collectEvents(): void {
    for (const side of ['source', 'destination'] as const) {
      const qmp = side === 'source' ? this.source.qmp : this.destination.qmp;
      for (const event of qmp.history) {
        if (event.seq < this.nextEventSeq[side]) continue;
        this.nextEventSeq[side] = event.seq + 1;
        if (!MIGRATION_EVENTS.has(event.name)) continue;
        this.record.events.push({ side, name: event.name, data: event.data, hostTimestampMs: event.timestampMs, receivedAtMs: event.receivedAtMs });
      }
    }
  }

  private async prepare(): Promise<void> {
    const supported = await this.supportedCapabilities(this.source.qmp);
    const wanted = Object.entries(this.record.capabilities).filter(([name]) => supported.has(name));
    const list = wanted.map(([capability, state]) => ({ capability, state }));
    // Both ends must agree (return-path and switchover-ack are negotiated on the stream).
    await this.source.qmp.execute('migrate-set-capabilities', { capabilities: list });
    await this.destination.qmp.execute('migrate-set-capabilities', { capabilities: list });
    await assertParametersKnown(this.source.qmp, this.record.parameters, this.source.host);
    await this.source.qmp.execute('migrate-set-parameters', this.record.parameters);
    const incoming: Record<string, unknown> = { uri: this.record.uri };
    if (this.options.destinationExitOnError !== undefined) incoming['exit-on-error'] = this.options.destinationExitOnError;
    await this.destination.qmp.execute('migrate-incoming', incoming);
  }

  private async supportedCapabilities(qmp: QmpPeer): Promise<Set<string>> {
    const list = await qmp.execute<{ capability: string }[]>('query-migrate-capabilities');
    return new Set(list.map((c) => c.capability));
  }

  /** Sends `migrate`; false when QEMU refused it (a blocker or a bad argument). */
  private async start(): Promise<boolean> {
    const before = await this.source.qmp.execute<Record<string, unknown>>('query-migrate');
    this.record.blockedReasons = Array.isArray(before['blocked-reasons']) ? (before['blocked-reasons'] as string[]) : [];
    try {
      await this.source.qmp.execute('migrate', { uri: this.record.uri });
      return true;
    } catch (error) {
      this.record.outcome = this.record.blockedReasons.length > 0 ? 'blocked' : 'failed';
      this.record.reason = errorMessage(error);
      return false;
    }
  }

  private async follow(): Promise<void> {
    const intervalMs = this.options.sampleIntervalMs ?? 100;
    const deadlineMs = controllerNowMs() + this.options.timeoutMs;
    const pending = [...(this.options.hooks ?? [])];
    let activeSinceMs: number | null = null;
    for (;;) {
      const info = await this.source.qmp.execute<Record<string, unknown>>('query-migrate');
      const sample = sampleMigration(info, controllerNowMs());
      this.record.samples.push(sample);
      this.options.onSample?.(sample);
      this.collectEvents();
      if (sample.status === 'active' && activeSinceMs === null) activeSinceMs = sample.atMs;
      const passesSeen = this.record.events.filter((e) => e.side === 'source' && e.name === 'MIGRATION_PASS').length;
      for (const hook of pending.filter((h) => isHookDue(h.at, sample, { passesSeen, activeSinceMs }))) {
        pending.splice(pending.indexOf(hook), 1);
        const fired = this.fire(hook);
        if (hook.at.kind === 'preSwitchover') {
          await fired;
          await this.source.qmp.execute('migrate-continue', { state: 'pre-switchover' });
        } else {
          this.running.push(fired);
        }
      }
      if (FINAL_STATUSES.has(sample.status)) {
        this.record.outcome = sample.status as 'completed' | 'failed' | 'cancelled';
        this.record.finalInfo.source = await this.settledInfo(info);
        const desc = (this.record.finalInfo.source as Record<string, unknown>)['error-desc'];
        if (typeof desc === 'string') this.record.reason = desc;
        return;
      }
      if (controllerNowMs() > deadlineMs) {
        this.record.outcome = 'timeout';
        this.record.reason = `migration did not finish within ${this.options.timeoutMs} ms; last query-migrate: status ${sample.status}, ${describeProgress(sample)}`;
        this.record.finalInfo.source = info;
        await this.source.qmp.execute('migrate_cancel');
        return;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /**
   * QEMU 7.2 can answer "completed" with total-time 0 before its own bookkeeping is done
   * (design.md §5): re-query until the figures are there, within a short bound.
   */
  private async settledInfo(info: Record<string, unknown>): Promise<Record<string, unknown>> {
    let current = info;
    for (let attempt = 0; attempt < 20 && current['status'] === 'completed' && !(Number(current['total-time']) > 0); attempt++) {
      await new Promise((r) => setTimeout(r, 50));
      current = await this.source.qmp.execute<Record<string, unknown>>('query-migrate');
    }
    return current;
  }

  private async fire(hook: PhaseHook): Promise<void> {
    const entry = { name: hook.name, phase: describePhase(hook.at), firedAtMs: controllerNowMs(), endedAtMs: null as number | null, error: null as string | null };
    this.record.hooks.push(entry);
    this.hookOutcomes.set(hook, { hook, hasFired: true });
    try {
      await hook.action({ record: this.record });
    } catch (error) {
      entry.error = errorMessage(error);
      this.hookOutcomes.set(hook, { hook, hasFired: true, error });
    }
    entry.endedAtMs = controllerNowMs();
  }

  private async finish(): Promise<void> {
    if (this.record.outcome === 'completed') {
      await this.waitForDestinationRunning();
      if (this.options.probe !== undefined) {
        // The outage window closes at the first reply after the guest runs again on the destination.
        await this.options.probe.waitForReply(this.options.resumeTimeoutMs ?? 30_000).catch((error: unknown) => {
          this.record.reason = `guest did not answer after migration: ${errorMessage(error)}`;
        });
      }
    } else {
      await this.resumeSource();
    }
    this.record.finalInfo.destination = await this.destination.qmp.execute('query-migrate').catch((error: unknown) => ({ error: errorMessage(error) }));
    this.record.endedAtMs = controllerNowMs();
    this.collectEvents();
    if (this.options.probe !== undefined) this.record.probe = this.options.probe.outage(this.record.startedAtMs, this.record.endedAtMs);
    this.record.outageBreakdown = this.record.outcome === 'completed' ? outageBreakdown(this.record) : null;
    this.record.measurements = computeMeasurements(this.record);
  }

  private async waitForDestinationRunning(): Promise<void> {
    const deadlineMs = controllerNowMs() + (this.options.resumeTimeoutMs ?? 30_000);
    let status = '';
    while (controllerNowMs() < deadlineMs) {
      status = (await this.destination.qmp.execute<{ status: string }>('query-status')).status;
      if (status === 'running') return;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.record.outcome = 'failed';
    this.record.reason = `source reported completed but the destination is "${status}" after ${this.options.resumeTimeoutMs ?? 30_000} ms`;
  }

  /** After a failed or cancelled migration the source may sit paused: run it again and say so. */
  private async resumeSource(): Promise<void> {
    const status = (await this.source.qmp.execute<{ status: string }>('query-status')).status;
    if (status !== 'running') {
      try {
        await this.source.qmp.execute('cont');
      } catch (error) {
        this.record.reason = `${this.record.reason ?? this.record.outcome}; resuming the source with "cont" failed: ${errorMessage(error)}`;
      }
    }
    const after = (await this.source.qmp.execute<{ status: string }>('query-status')).status;
    this.record.isSourceResumed = after === 'running';
  }
}

function describeProgress(sample: MigrationSample): string {
  const parts = [`${sample.ramTransferredBytes ?? 0} bytes sent`, `${sample.ramRemainingBytes ?? '?'} remaining`];
  if (sample.dirtySyncCount !== undefined) parts.push(`${sample.dirtySyncCount} dirty syncs`);
  if (sample.expectedDowntimeMs !== undefined) parts.push(`expected downtime ${sample.expectedDowntimeMs} ms`);
  return parts.join(', ');
}
