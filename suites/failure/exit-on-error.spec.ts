import * as chai from 'chai';
import { readBootId } from '../../harness/guest/readBootId.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import { FAILURE_REFERENCES, startSourceGuest } from './failureSetup.js';
import { migrationStatuses } from './migrationEvents.js';
import { keyedIt } from '../../harness/mocha/testId.js';

const { expect } = chai;

/** QEMU ≥ 9.1 knows migrate-incoming exit-on-error (brief §3.1). */
function hasExitOnError(version: string | null): boolean {
  const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
  return major > 9 || (major === 9 && minor >= 1);
}

describe('failure/exit-on-error: a destination that cannot load the stream stays up and says why (brief §7 D3)', function () {
  keyedIt('D3', 'D3 emulated NIC: destination with a different NIC model, exit-on-error false → destination MIGRATION failed, query-migrate error-desc on the destination, QEMU still up, source resumed', async function () {
    requireCapabilities(this, ['emulated-nic']);
    const lab = this.lab;
    const version = lab.hostPreflight(lab.pair.destination).facts?.qemu.version ?? null;
    if (!hasExitOnError(version)) {
      this.test!.hilSkipReason = `missing capability: migrate-incoming exit-on-error (QEMU ≥ 9.1; the destination has ${version ?? 'an unknown version'})`;
      this.skip();
    }
    this.scope.references.push(...FAILURE_REFERENCES);
    Object.assign(this.scope.labels, { scenario: 'D3', fault: 'device mismatch: virtio-net-pci on the source, e1000e on the destination', backend: 'emulated' });
    const guest = await startSourceGuest(lab, this.scope, { nicModel: 'virtio-net-pci' });
    // The same slot holds another device type on the destination: the device section of the
    // stream names a device the destination does not have, so its load fails.
    const destination = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst', isIncoming: true, nicModel: 'e1000e' });
    const record = await lab.migrate(this.scope, guest.vm, destination, { probe: guest.probe, destinationExitOnError: false });

    expect(record.outcome, `source outcome (${record.reason ?? 'no reason'})`).to.equal('failed');
    expect(migrationStatuses(record, 'destination'), 'destination MIGRATION events').to.include('failed');
    const info = record.finalInfo.destination as Record<string, unknown>;
    expect(info['status'], 'destination query-migrate status').to.equal('failed');
    // brief §4.3 lists the destination's words: "load of migration failed:".
    expect(info['error-desc'], 'destination query-migrate error-desc').to.be.a('string').and.include('load of migration failed');
    this.scope.writeArtifact('destination-error.txt', 'other', 'error-desc the destination gave', String(info['error-desc']));
    expect(await destination.process.isRunning(), 'destination QEMU is still up').to.equal(true);
    const again = await destination.qmp.execute<Record<string, unknown>>('query-migrate');
    expect(again['error-desc'], 'error-desc is still readable').to.equal(info['error-desc']);
    expect(record.isSourceResumed, 'source resumed').to.equal(true);
    await guest.probe.waitForReply(5000);
    expect(await readBootId(guest.vm.openConsole()), 'boot id on the source').to.equal(guest.bootId);
  });
});
