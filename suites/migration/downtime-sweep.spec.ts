import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import { InfrastructureError } from '../../harness/errors.js';
import { readBootId } from '../../harness/guest/readBootId.js';
import type { MigrationRecord } from '../../harness/migration/MigrationRecord.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import type { LabVm } from '../../harness/session/LabVm.js';
import { startGuestDirtier } from './guestDirtier.js';
import { judgeDowntimeSweep, STOP_COPY_FACTOR, type SweepPoint } from './judgeDowntimeSweep.js';
import { keyedIt } from '../../harness/mocha/testId.js';

chai.use(migrationAssertions);
const { expect } = chai;

/** brief §7 E3: the downtime limits swept, at a bandwidth low enough for the limit to decide the switchover. */
const LIMITS_MS = [50, 150, 300, 1000] as const;
const BANDWIDTH_BYTES_PER_SEC = 32 * 1024 * 1024;
/**
 * The guest keeps up to 48 MiB dirty at under 25 MiB/s (1 MiB per 40 ms pause and its write):
 * more than the loosest limit lets through (32 MiB/s × 1 s), and slower than the bandwidth so
 * that pre-copy converges. Each limit's stop-copy then lands between rate × limit and
 * bandwidth × limit, and those ranges overlap little: judgeDowntimeSweep says which steps tell.
 */
const DIRTIER = { workingSetMiB: 48, pauseUs: 40_000 };
/**
 * Stop-copy RAM that does not scale with the limit: the pages the guest dirties between QEMU's
 * last pending check and the stop (a few ms at ~20 MiB/s) and the kernel's own writes; 1 MiB
 * covers them with room, and stays far below what a limit ignored by one step would add.
 */
const STOP_COPY_SLACK_BYTES = 1024 * 1024;

function ramOf(info: unknown): Record<string, number> {
  return ((info as Record<string, unknown> | null)?.['ram'] ?? {}) as Record<string, number>;
}

/** The sweep's figures of one migration, with the limit QEMU reads back on its source. */
async function sweepPoint(limitMs: number, record: MigrationRecord, source: LabVm): Promise<SweepPoint> {
  const parameters = await source.qmp.execute<Record<string, unknown>>('query-migrate-parameters');
  const ram = ramOf(record.finalInfo.source);
  const m = record.measurements;
  return {
    limitMs,
    readBackLimitMs: typeof parameters['downtime-limit'] === 'number' ? parameters['downtime-limit'] : null,
    firstExpectedDowntimeMs: record.samples.find((s) => s.status === 'active' && s.expectedDowntimeMs !== undefined)?.expectedDowntimeMs ?? null,
    stopCopyBytes: ram['downtime-bytes'] ?? null,
    // The rate over QEMU's last syncs before the switchover (the final answer reports 0).
    dirtyBytesPerSec: [...record.samples].reverse().find((s) => s.status === 'active' && s.dirtyBytesPerSec !== undefined)?.dirtyBytesPerSec ?? null,
    downtimeMs: m.downtimeMs ?? null,
    dirtySyncCount: m.dirtySyncCount ?? null,
    totalTimeMs: m.totalTimeMs ?? null,
  };
}

describe('migration/downtime-sweep: downtime-limit swept at a fixed bandwidth (brief §7 E3)', function () {
  keyedIt('E3', `downtime-limit ${LIMITS_MS.join('/')} ms at ${BANDWIDTH_BYTES_PER_SEC / 1048576} MiB/s with the guest dirtying RAM: QEMU runs with each limit, stop-copy RAM ≤ ${STOP_COPY_FACTOR} × bandwidth × limit + ${STOP_COPY_SLACK_BYTES / 1048576} MiB, and grows strictly from the tightest limit to the loosest`, async function () {
    requireCapabilities(this, ['emulated-nic']);
    const lab = this.lab;
    this.scope.references.push('vfio-migration brief §7 E3 (downtime-limit sweep), §3.4 (the achieved downtime may exceed the limit)');
    Object.assign(this.scope.labels, { backend: 'emulated', bandwidthMiBps: String(BANDWIDTH_BYTES_PER_SEC / 1048576), dirtierWorkingSetMiB: String(DIRTIER.workingSetMiB) });
    const hosts = [lab.pair.source, lab.pair.destination] as const;
    let vm: LabVm = await lab.launchVm(this.scope, { host: hosts[0], role: 'vm0' });
    const probe = await lab.startProbe(this.scope);
    await probe.waitForReply(lab.lab.defaults.timeouts.bootMs);
    const console = vm.openConsole();
    const bootId = await readBootId(console);
    await startGuestDirtier(console, DIRTIER);
    const points: SweepPoint[] = [];
    for (const [i, limitMs] of LIMITS_MS.entries()) {
      const next = await lab.launchVm(this.scope, { host: hosts[(i + 1) % 2]!, role: `vm${i + 1}`, isIncoming: true });
      const record = await lab.migrate(this.scope, vm, next, { probe, downtimeLimitMs: limitMs, maxBandwidthBytesPerSec: BANDWIDTH_BYTES_PER_SEC, switchoverBandwidthBytesPerSec: 0, labels: { downtimeLimitMs: String(limitMs) } });
      expect(record, `migration at downtime-limit ${limitMs} ms`).to.have.completed();
      points.push(await sweepPoint(limitMs, record, vm));
      await vm.stop();
      vm = next;
    }
    expect(await readBootId(vm.openConsole()), 'boot id after the sweep').to.equal(bootId);
    const verdict = judgeDowntimeSweep(points, { bandwidthBytesPerSec: BANDWIDTH_BYTES_PER_SEC, slackBytes: STOP_COPY_SLACK_BYTES, workingSetBytes: DIRTIER.workingSetMiB * 1048576 });
    this.scope.writeArtifact('downtime-sweep.json', 'other', 'per downtime-limit: limit read back, stop-copy bytes, dirty rate, downtime, passes; and the judgement', JSON.stringify({ points, verdict }, null, 2));
    const table = points.map((p) => `${p.limitMs} ms: stop-copy ${p.stopCopyBytes ?? '?'} B, dirty ${p.dirtyBytesPerSec ?? '?'} B/s, downtime ${p.downtimeMs ?? '?'} ms, ${p.dirtySyncCount ?? '?'} syncs`).join('; ');
    if (verdict.inconclusive !== null) throw new InfrastructureError('SWEEP_INCONCLUSIVE', `The downtime sweep gave no verdict: ${verdict.inconclusive}. Figures: ${table}`);
    expect(verdict.failures, `downtime sweep (${table}; ${verdict.steps.join('; ')})`).to.deep.equal([]);
  });
});
