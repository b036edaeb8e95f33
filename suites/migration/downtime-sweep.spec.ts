import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import { readBootId } from '../../harness/guest/readBootId.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import type { LabVm } from '../../harness/session/LabVm.js';
import { keyedIt } from '../../harness/mocha/testId.js';

chai.use(migrationAssertions);
const { expect } = chai;

/** brief §7 E3: the downtime limits swept, at a bandwidth low enough for the limit to decide the switchover. */
const LIMITS_MS = [50, 150, 300, 1000] as const;
const BANDWIDTH_BYTES_PER_SEC = 32 * 1024 * 1024;

interface SweepPoint {
  readonly limitMs: number;
  readonly downtimeMs: number | null;
  readonly downtimeBytes: number | null;
  readonly dirtySyncCount: number | null;
  readonly totalTimeMs: number | null;
}

describe('migration/downtime-sweep: downtime-limit swept at a fixed bandwidth (brief §7 E3)', function () {
  keyedIt('E3', `downtime-limit ${LIMITS_MS.join('/')} ms at ${BANDWIDTH_BYTES_PER_SEC / 1048576} MiB/s: each migration within limit·2 + c; the loosest limit leaves at least as many bytes for stop-copy, the tightest takes at least as many passes`, async function () {
    requireCapabilities(this, ['emulated-nic']);
    const lab = this.lab;
    this.scope.references.push('vfio-migration brief §7 E3 (downtime-limit sweep, downtime ≤ limit·k + c), §3.4 (the achieved downtime may exceed the limit)');
    Object.assign(this.scope.labels, { backend: 'emulated', bandwidthMiBps: String(BANDWIDTH_BYTES_PER_SEC / 1048576) });
    const hosts = [lab.pair.source, lab.pair.destination] as const;
    let vm: LabVm = await lab.launchVm(this.scope, { host: hosts[0], role: 'vm0' });
    const probe = await lab.startProbe(this.scope);
    await probe.waitForReply(lab.lab.defaults.timeouts.bootMs);
    const bootId = await readBootId(vm.openConsole());
    const points: SweepPoint[] = [];
    for (const [i, limitMs] of LIMITS_MS.entries()) {
      const next = await lab.launchVm(this.scope, { host: hosts[(i + 1) % 2]!, role: `vm${i + 1}`, isIncoming: true });
      const record = await lab.migrate(this.scope, vm, next, { probe, downtimeLimitMs: limitMs, maxBandwidthBytesPerSec: BANDWIDTH_BYTES_PER_SEC, labels: { downtimeLimitMs: String(limitMs) } });
      expect(record, `migration at downtime-limit ${limitMs} ms`).to.have.completed();
      const ram = ((record.finalInfo.source as Record<string, unknown>)['ram'] ?? {}) as Record<string, number>;
      const m = record.measurements;
      points.push({ limitMs, downtimeMs: m.downtimeMs ?? null, downtimeBytes: ram['downtime-bytes'] ?? null, dirtySyncCount: m.dirtySyncCount ?? null, totalTimeMs: m.totalTimeMs ?? null });
      expect(record).downtimeBelow(limitMs * 2 + lab.lab.defaults.limits.downtimeMs);
      await vm.stop();
      vm = next;
    }
    expect(await readBootId(vm.openConsole()), 'boot id after the sweep').to.equal(bootId);
    this.scope.writeArtifact('downtime-sweep.json', 'other', 'downtime, stop-copy bytes and passes per downtime-limit', JSON.stringify(points, null, 2));
    const [tightest, loosest] = [points[0]!, points[points.length - 1]!];
    expect(loosest.downtimeBytes, `stop-copy bytes at ${loosest.limitMs} ms against ${tightest.limitMs} ms (${points.map((p) => `${p.limitMs}: ${p.downtimeBytes}`).join(', ')}): a looser limit leaves more RAM for stop-copy`).to.be.at.least(tightest.downtimeBytes ?? 0);
    expect(tightest.dirtySyncCount, `dirty syncs at ${tightest.limitMs} ms against ${loosest.limitMs} ms (${points.map((p) => `${p.limitMs}: ${p.dirtySyncCount}`).join(', ')})`).to.be.at.least(loosest.dirtySyncCount ?? 0);
  });
});
