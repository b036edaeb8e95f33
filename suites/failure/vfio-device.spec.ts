import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import { readBootId } from '../../harness/guest/readBootId.js';
import type { PhaseHook } from '../../harness/migration/PhaseHook.js';
import { signalVmProcess } from '../../harness/qemu/probeVmProcess.js';
import { requireMigratableVfioSetup, VFIO_DEVICE_ID } from '../migration/backendsSetup.js';
import { FAILURE_HOOK_AT, FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC, FAILURE_REFERENCES } from './failureSetup.js';
import { CANCEL_RACE_ERROR_DESC, cancelInPreCopy, vfioDeviceStates, wasFailedByCancel } from './migrationEvents.js';
import { keyedIt } from '../../harness/mocha/testId.js';

chai.use(migrationAssertions);
const { expect } = chai;

/** brief §2.3: on a failed or cancelled migration (MIG_EVENT_FAILED) the source device goes back to RUNNING. */
function expectSourceDeviceRunning(states: readonly string[]): void {
  expect(states, 'source VFIO_MIGRATION states').to.not.deep.equal([]);
  expect(states[states.length - 1], `last source VFIO state of ${states.join(' → ')}`).to.equal('running');
}

describe('failure/vfio-device: cancel and a killed destination with a VFIO device (brief §7 D1, D2)', function () {
  keyedIt('D1-vfio', 'D1 VFIO: migrate_cancel during pre-copy → the source device goes back to running, a second migration completes', async function () {
    const { variant, setup } = await requireMigratableVfioSetup(this);
    const lab = this.lab;
    this.scope.references.push(...FAILURE_REFERENCES);
    Object.assign(this.scope.labels, { scenario: 'D1-vfio', variant: variant.id });
    const src = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src', nics: setup.sourceNics });
    await src.waitForShell(lab.lab.defaults.timeouts.bootMs);
    const bootId = await readBootId(src.openConsole());
    const dst1 = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst1', nics: setup.destinationNics, isIncoming: true });
    const cancel = cancelInPreCopy(src.qmp);
    const first = await lab.migrate(this.scope, src, dst1, { hooks: [cancel.hook], maxBandwidthBytesPerSec: FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC });
    if (!wasFailedByCancel(first, cancel.statusAtCancel())) {
      expect(first.outcome, `outcome (${first.reason ?? ''})`).to.equal('cancelled');
    } else {
      this.scope.labels['ending'] = 'failed-by-cancel';
      expect(first.outcome, `outcome (${first.reason ?? ''})`).to.equal('failed');
      expect(first.reason ?? '', 'error-desc').to.match(CANCEL_RACE_ERROR_DESC);
    }
    expectSourceDeviceRunning(vfioDeviceStates(first, 'source', VFIO_DEVICE_ID));
    expect(first.isSourceResumed).to.equal(true);
    // The VF has one owner at a time: the first destination lets go of it before the second starts.
    await dst1.stop();
    const dst2 = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst2', nics: setup.destinationNics, isIncoming: true });
    const second = await lab.migrate(this.scope, src, dst2);
    expect(second).to.have.completed();
    const destination = vfioDeviceStates(second, 'destination', VFIO_DEVICE_ID);
    expect(destination[destination.length - 1], `destination VFIO states ${destination.join(' → ')}`).to.equal('running');
    expect(await readBootId(dst2.openConsole()), 'boot id after the second migration').to.equal(bootId);
  });

  keyedIt('D2-vfio', 'D2 VFIO: SIGKILL to the destination during pre-copy → failed with error-desc, the source device back to running, the guest runs on', async function () {
    const { variant, setup } = await requireMigratableVfioSetup(this);
    const lab = this.lab;
    this.scope.references.push(...FAILURE_REFERENCES);
    Object.assign(this.scope.labels, { scenario: 'D2-vfio', variant: variant.id });
    const src = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src', nics: setup.sourceNics });
    await src.waitForShell(lab.lab.defaults.timeouts.bootMs);
    const bootId = await readBootId(src.openConsole());
    const dst = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst', nics: setup.destinationNics, isIncoming: true });
    const kill: PhaseHook = { name: 'SIGKILL the destination QEMU', at: FAILURE_HOOK_AT, action: async () => { await signalVmProcess(lab.hostRunner(dst.host.name), dst.process.pid, dst.name, 'KILL'); } };
    const record = await lab.migrate(this.scope, src, dst, { hooks: [kill], maxBandwidthBytesPerSec: FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC });
    expect(record.outcome, 'outcome').to.equal('failed');
    expect(record.reason, 'error-desc').to.be.a('string').and.not.equal('');
    expectSourceDeviceRunning(vfioDeviceStates(record, 'source', VFIO_DEVICE_ID));
    expect(record.isSourceResumed, 'source resumed').to.equal(true);
    expect(await readBootId(src.openConsole()), 'boot id on the source').to.equal(bootId);
  });
});
