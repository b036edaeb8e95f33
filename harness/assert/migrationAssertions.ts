import type { MigrationRecord } from '../migration/MigrationRecord.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Chai {
    interface Assertion {
      /**
       * The migration reached "completed" and, when a probe ran, the guest answered it from the
       * destination (a reply after the destination's RESUME).
       */
      completed(): Assertion;
      /** query-migrate downtime (QEMU's own figure) is below `ms`. */
      downtimeBelow(ms: number): Assertion;
      /** The guest-observed outage (probe stream) is below `ms`. */
      outageBelow(ms: number): Assertion;
      /** `migrate` was refused with a blocker (or blocked-reasons) containing `text`. */
      blockedWith(text: string): Assertion;
      /** The migration failed with a reason (error-desc) containing `text`. */
      failedWith(text: string): Assertion;
    }
  }
}

/** The figures a reader of a failed assertion needs to see, on one line. */
export function describeRecord(record: MigrationRecord): string {
  const m = record.measurements;
  const parts = [
    `migration ${record.id} ${record.source.host}→${record.destination.host}: outcome ${record.outcome ?? 'none'}`,
    record.reason !== null ? `reason "${record.reason}"` : '',
    m.totalTimeMs !== undefined ? `total ${m.totalTimeMs} ms` : '',
    m.downtimeMs !== undefined ? `downtime ${m.downtimeMs} ms` : '',
    m.pauseWindowMs !== undefined ? `pause window ${m.pauseWindowMs} ms` : '',
    m.guestOutageMs !== undefined ? `guest outage ${m.guestOutageMs} ms (${m.probeLost ?? 0} probes lost)` : '',
    m.ramBytes !== undefined ? `RAM ${m.ramBytes} bytes` : '',
    m.vfioBytes !== undefined ? `VFIO ${m.vfioBytes} bytes` : '',
    record.blockedReasons.length > 0 ? `blocked-reasons ${JSON.stringify(record.blockedReasons)}` : '',
    `${record.samples.length} samples, ${record.events.length} events`,
  ];
  return parts.filter((p) => p !== '').join('; ');
}

/**
 * Why a completed migration with a probe does not show the guest answering on the destination,
 * or null when it does (or no probe ran). The source reports "completed" after it stopped the
 * guest for good, so a reply the controller received after that sample came from the destination.
 * Replies and samples are both on the controller's clock; QMP events carry other clocks.
 */
export function destinationSilence(record: MigrationRecord): string | null {
  if (record.probe === null) return null;
  const completed = record.samples.find((s) => s.status === 'completed');
  if (completed === undefined) return 'a probe ran but the record has no query-migrate sample saying "completed" to place its replies against';
  const replies = record.probe.replyTimesMs;
  if (replies === undefined) return 'a probe ran but the record keeps no reply times, so nothing shows the guest answering on the destination';
  if (replies.some((t) => t >= completed.atMs)) return null;
  const last = replies.length > 0 ? `its last reply came ${(completed.atMs - replies[replies.length - 1]!).toFixed(1)} ms before` : 'no reply at all in the migration window, none after';
  return `the guest never answered the probe from the destination: ${last} the source reported "completed" (${record.probe.received} of ${record.probe.sent} probes answered)`;
}

function isRecord(value: unknown): value is MigrationRecord {
  return typeof value === 'object' && value !== null && 'samples' in value && 'measurements' in value && 'outcome' in value;
}

/** chai.use(migrationAssertions): expect(record).to.have.completed(), .downtimeBelow(ms), ... */
export function migrationAssertions(chai: Chai.ChaiStatic, utils: Chai.ChaiUtils): void {
  const { Assertion } = chai;
  const recordOf = (assertion: Chai.AssertionStatic | object): MigrationRecord => {
    const value = utils.flag(assertion, 'object') as unknown;
    if (!isRecord(value)) throw new TypeError(`expected a MigrationRecord, got ${utils.inspect(value)}`);
    return value;
  };

  Assertion.addMethod('completed', function (this: Chai.AssertionStatic) {
    const record = recordOf(this);
    const silence = record.outcome === 'completed' ? destinationSilence(record) : null;
    this.assert(record.outcome === 'completed' && silence === null,
      silence === null ? `expected the migration to complete — ${describeRecord(record)}` : `expected the migration to complete with the guest answering on the destination, but ${silence} — ${describeRecord(record)}`,
      `expected the migration not to complete — ${describeRecord(record)}`, 'completed', record.outcome);
  });

  const below = (name: 'downtimeMs' | 'guestOutageMs', label: string) => function (this: Chai.AssertionStatic, limitMs: number) {
    const record = recordOf(this);
    const value = record.measurements[name];
    this.assert(value !== undefined && value < limitMs,
      value === undefined ? `expected ${label} below ${limitMs} ms, but there is no ${label} — ${describeRecord(record)}`
        : `expected ${label} ${value} ms to be below ${limitMs} ms — ${describeRecord(record)}`,
      `expected ${label} ${value} ms not to be below ${limitMs} ms — ${describeRecord(record)}`, limitMs, value);
  };
  Assertion.addMethod('downtimeBelow', below('downtimeMs', 'downtime'));
  Assertion.addMethod('outageBelow', below('guestOutageMs', 'guest outage'));

  Assertion.addMethod('blockedWith', function (this: Chai.AssertionStatic, text: string) {
    const record = recordOf(this);
    const texts = [...record.blockedReasons, record.outcome === 'blocked' ? record.reason ?? '' : ''];
    this.assert(record.outcome === 'blocked' && texts.some((t) => t.includes(text)),
      `expected the migration to be blocked with "${text}" — ${describeRecord(record)}`,
      `expected the migration not to be blocked with "${text}" — ${describeRecord(record)}`, text, texts);
  });

  Assertion.addMethod('failedWith', function (this: Chai.AssertionStatic, text: string) {
    const record = recordOf(this);
    this.assert(record.outcome === 'failed' && (record.reason ?? '').includes(text),
      `expected the migration to fail with "${text}" — ${describeRecord(record)}`,
      `expected the migration not to fail with "${text}" — ${describeRecord(record)}`, text, record.reason);
  });
}
