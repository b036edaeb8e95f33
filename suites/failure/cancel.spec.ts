import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import { readBootId } from '../../harness/guest/readBootId.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import { FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC, FAILURE_REFERENCES, startSourceGuest } from './failureSetup.js';
import { CANCEL_RACE_ERROR_DESC, cancelInPreCopy, migrationStatuses, wasFailedByCancel } from './migrationEvents.js';
import { keyedIt } from '../../harness/mocha/testId.js';

chai.use(migrationAssertions);
const { expect } = chai;

describe('failure/cancel: migrate_cancel during pre-copy (brief §7 D1)', function () {
  keyedIt('D1', 'D1 emulated NIC: MIGRATION cancelling → cancelled, the source keeps running the guest, a second migration then completes', async function () {
    requireCapabilities(this, ['emulated-nic']);
    const lab = this.lab;
    this.scope.references.push(...FAILURE_REFERENCES);
    Object.assign(this.scope.labels, { scenario: 'D1', fault: 'migrate_cancel during pre-copy', backend: 'emulated' });
    const guest = await startSourceGuest(lab, this.scope);
    const firstDestination = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst1', isIncoming: true });
    const cancel = cancelInPreCopy(guest.vm.qmp);
    const first = await lab.migrate(this.scope, guest.vm, firstDestination, { probe: guest.probe, hooks: [cancel.hook], maxBandwidthBytesPerSec: FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC });

    const statuses = migrationStatuses(first, 'source');
    if (!wasFailedByCancel(first, cancel.statusAtCancel())) {
      expect(first.outcome, `outcome of the cancelled migration (${first.reason ?? 'no reason'})`).to.equal('cancelled');
      expect(statuses, 'source MIGRATION events').to.include.members(['active', 'cancelling', 'cancelled']);
      expect(statuses.indexOf('cancelling'), 'cancelling before cancelled').to.be.below(statuses.indexOf('cancelled'));
    } else {
      // QEMU's cancel race (migrationEvents.ts): the cancel still ended it, through the stream's socket.
      this.scope.labels['ending'] = 'failed-by-cancel';
      expect(first.reason ?? '', 'error-desc').to.match(CANCEL_RACE_ERROR_DESC);
      expect(statuses, 'source MIGRATION events').to.include.members(['active', 'failed']);
    }
    expect(first.isSourceResumed, 'source runs after the cancel').to.equal(true);
    expect((await guest.vm.qmp.execute<{ status: string }>('query-status')).status).to.equal('running');
    await guest.probe.waitForReply(5000);
    expect(await readBootId(guest.vm.openConsole()), 'boot id after the cancel').to.equal(guest.bootId);

    // The first destination gave up on its stream; it goes before its replacement takes the tap.
    await firstDestination.stop();
    const secondDestination = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst2', isIncoming: true });
    const second = await lab.migrate(this.scope, guest.vm, secondDestination, { probe: guest.probe });
    expect(second).to.have.completed();
    expect(second).downtimeBelow(lab.lab.defaults.limits.downtimeMs);
    expect(await readBootId(secondDestination.openConsole()), 'boot id after the second migration').to.equal(guest.bootId);
  });
});
