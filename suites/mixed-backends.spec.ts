import * as chai from 'chai';
import { migrationAssertions } from '../harness/assert/migrationAssertions.js';
import { readBootId } from '../harness/guest/readBootId.js';
import { requireCapabilities } from '../harness/mocha/mochaContext.js';
import type { VfioMigrationOptions, VmNic } from '../harness/qemu/VmSpec.js';
import { expectsNoTrackerBlocker, findDevicePair, requireDevicePair, vfioVmNic, type AssignableDevice } from '../harness/session/assignableDevices.js';
import { mixedBackendDecision } from './migration/distinguishingCases.js';
import { vfioDeviceStates } from './failure/migrationEvents.js';
import { keyedIt } from '../harness/mocha/testId.js';

chai.use(migrationAssertions);
const { expect } = chai;

const REFERENCES = [
  'vfio-migration brief §7 G: mixed backends ("mixed backend", Zhenzhong): each device is admitted separately under §2.3',
  'QEMU docs/devel/vfio-iommufd.rst: one iommufd object shared by the IOMMUFD devices, the others on the legacy container',
];
const NO_TRACKER = "VFIO device doesn't support device and IOMMU dirty tracking";

interface MixedPair {
  readonly legacy: { readonly source: AssignableDevice; readonly destination: AssignableDevice };
  readonly iommufd: { readonly source: AssignableDevice; readonly destination: AssignableDevice };
}

/** Two different devices, the first on the legacy container and the second on IOMMUFD. */
async function requireMixedPair(context: Mocha.Context): Promise<MixedPair> {
  requireCapabilities(context, ['vfio', 'iommufd', 'vfio-migration-events']);
  const legacy = await requireDevicePair(context, 'migratable');
  const iommufd = await requireDevicePair(context, 'migratable', { exclude: [legacy.source.nic.name] });
  Object.assign(context.scope.labels, { backend: 'legacy+iommufd', devices: `${legacy.source.nic.name} (legacy), ${iommufd.source.nic.name} (iommufd)` });
  context.scope.references.push(...REFERENCES);
  return { legacy, iommufd };
}

/**
 * Two devices QEMU must judge differently: one without a dirty tracker on the legacy container
 * (blocked; an mdev with DMA logging switched off serves) and one with device dirty tracking on
 * IOMMUFD (admitted). Skips naming the case when the lab cannot give it.
 */
async function requireJudgedApartPair(context: Mocha.Context): Promise<MixedPair> {
  requireCapabilities(context, ['vfio', 'iommufd', 'vfio-migration-events']);
  const lab = context.lab;
  const skip = (reason: string): never => {
    context.test!.hilSkipReason = reason;
    context.skip();
    throw new Error('unreachable: mocha skip throws');
  };
  const untracked = await findDevicePair(lab, 'migratable-without-device-dirty-tracking');
  if (!untracked.isFound) return skip(`M1 needs a device without a dirty tracker for the legacy container: ${untracked.reason}`);
  const tracked = await findDevicePair(lab, 'migratable-with-device-dirty-tracking', { exclude: [untracked.source.nic.name] });
  if (!tracked.isFound) return skip(`M1 needs a device with dirty tracking for IOMMUFD beside ${untracked.source.nic.name}: ${tracked.reason}`);
  const pair: MixedPair = { legacy: untracked, iommufd: tracked };
  const decision = mixedBackendDecision([
    { name: untracked.source.nic.name, backend: 'legacy', isBlockerExpected: expectsNoTrackerBlocker(lab, untracked.source, 'legacy') },
    { name: tracked.source.nic.name, backend: 'iommufd', isBlockerExpected: expectsNoTrackerBlocker(lab, tracked.source, 'iommufd') },
  ]);
  if (!decision.isRunnable) return skip(decision.skipReason);
  Object.assign(context.scope.labels, { backend: 'legacy+iommufd', devices: `${untracked.source.nic.name} (legacy, untracked), ${tracked.source.nic.name} (iommufd, tracked)` });
  context.scope.references.push(...REFERENCES);
  return pair;
}

function mixedNics(pair: MixedPair, side: 'source' | 'destination', migration: VfioMigrationOptions): VmNic[] {
  return [
    vfioVmNic(pair.legacy[side], { id: 'vf0', backend: 'legacy', migration }),
    vfioVmNic(pair.iommufd[side], { id: 'vf1', backend: 'iommufd', migration }),
  ];
}

describe('mixed-backends: one VFIO device on the legacy container, one on IOMMUFD, in the same VM', function () {
  keyedIt('M1', 'M1 enable-migration=auto: each device is judged on its own (brief §2.3 rule 3) — in one VM, the device without a tracker on its backend gets the blocker naming it and the tracked one none', async function () {
    const pair = await requireJudgedApartPair(this);
    const lab = this.lab;
    const src = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src', nics: mixedNics(pair, 'source', { enableMigration: 'auto' }) });
    const info = await src.qmp.execute<{ 'blocked-reasons'?: string[] }>('query-migrate');
    const reasons = info['blocked-reasons'] ?? [];
    for (const [device, backend] of [[pair.legacy.source, 'legacy'], [pair.iommufd.source, 'iommufd']] as const) {
      const isExpected = expectsNoTrackerBlocker(lab, device, backend);
      const isBlocked = reasons.includes(`${device.qemuName}: ${NO_TRACKER}`);
      expect(isBlocked, `${device.nic.name} (${device.kind}) on ${backend}: ${isExpected ? 'a' : 'no'} "${NO_TRACKER}" blocker expected; blocked-reasons ${JSON.stringify(reasons)}`).to.equal(isExpected);
    }
  });

  keyedIt('M2', 'M2 enable-migration=on: both admitted, the migration completes, both devices go through their VFIO_MIGRATION states', async function () {
    const pair = await requireMixedPair(this);
    const lab = this.lab;
    const migration: VfioMigrationOptions = { enableMigration: 'on', migrationEvents: true };
    const src = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src', nics: mixedNics(pair, 'source', migration) });
    const console = src.openConsole();
    await src.waitForShell(lab.lab.defaults.timeouts.bootMs);
    const bootId = await readBootId(console);
    const dst = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst', nics: mixedNics(pair, 'destination', migration), isIncoming: true });
    const record = await lab.migrate(this.scope, src, dst);
    expect(record).to.have.completed();
    for (const id of ['vf0', 'vf1']) {
      const source = vfioDeviceStates(record, 'source', id);
      const destination = vfioDeviceStates(record, 'destination', id);
      expect(source, `source VFIO states of ${id}`).to.include('stop-copy');
      expect(destination[destination.length - 1], `destination VFIO states of ${id}: ${destination.join(' → ')}`).to.equal('running');
    }
    expect(record.measurements.vfioBytes ?? 0, 'vfio.transferred').to.be.above(0);
    expect(await readBootId(dst.openConsole()), 'boot id on the destination').to.equal(bootId);
  });
});
