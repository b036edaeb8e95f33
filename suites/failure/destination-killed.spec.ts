import * as chai from 'chai';
import { readBootId } from '../../harness/guest/readBootId.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import type { PhaseHook } from '../../harness/migration/PhaseHook.js';
import { signalVmProcess } from '../../harness/qemu/probeVmProcess.js';
import { FAILURE_HOOK_AT, FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC, FAILURE_REFERENCES, startSourceGuest } from './failureSetup.js';
import { migrationStatuses } from './migrationEvents.js';
import { keyedIt } from '../../harness/mocha/testId.js';

const { expect } = chai;

describe('failure/destination-killed: the destination QEMU dies mid-stream (brief §7 D2)', function () {
  keyedIt('D2', 'D2 emulated NIC: SIGKILL to the destination during pre-copy → source MIGRATION failed with error-desc, the source resumes and the guest keeps answering', async function () {
    requireCapabilities(this, ['emulated-nic']);
    const lab = this.lab;
    this.scope.references.push(...FAILURE_REFERENCES);
    Object.assign(this.scope.labels, { scenario: 'D2', fault: 'SIGKILL to the destination QEMU during pre-copy', backend: 'emulated' });
    const guest = await startSourceGuest(lab, this.scope);
    const destination = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst', isIncoming: true });
    const kill: PhaseHook = {
      name: 'SIGKILL the destination QEMU',
      at: FAILURE_HOOK_AT,
      action: async () => { await signalVmProcess(lab.hostRunner(destination.host.name), destination.process.pid, destination.name, 'KILL'); },
    };
    const record = await lab.migrate(this.scope, guest.vm, destination, { probe: guest.probe, hooks: [kill], maxBandwidthBytesPerSec: FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC });

    // FAIL-with-reason as data: the product behaved if the record says failed, with QEMU's reason.
    expect(record.outcome, 'outcome').to.equal('failed');
    expect(record.reason, 'error-desc of the source').to.be.a('string').and.not.equal('');
    expect(migrationStatuses(record, 'source'), 'source MIGRATION events').to.include('failed');
    expect(record.hooks.find((h) => h.name === kill.name)?.error ?? null, 'the kill itself').to.equal(null);
    expect(record.isSourceResumed, 'source resumed after the failure').to.equal(true);
    expect(await destination.process.isRunning(), 'destination QEMU is gone').to.equal(false);
    await guest.probe.waitForReply(5000);
    expect(await readBootId(guest.vm.openConsole()), 'boot id on the source after the failure').to.equal(guest.bootId);
  });
});
