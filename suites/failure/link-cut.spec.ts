import * as chai from 'chai';
import { migrationAssertions } from '../../harness/assert/migrationAssertions.js';
import { readBootId } from '../../harness/guest/readBootId.js';
import { requireCapabilities } from '../../harness/mocha/mochaContext.js';
import type { PhaseHook } from '../../harness/migration/PhaseHook.js';
import type { LinkControl } from '../../harness/host/LinkControl.js';
import type { TestScope } from '../../harness/session/TestScope.js';
import { waitFor } from '../../harness/waitFor.js';
import { FAILURE_HOOK_AT, FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC, FAILURE_REFERENCES, startSourceGuest, waitForStall } from './failureSetup.js';
import { migrationStatuses, wasFailedByCancel } from './migrationEvents.js';
import { keyedIt } from '../../harness/mocha/testId.js';

chai.use(migrationAssertions);
const { expect } = chai;

/**
 * The cut must end well inside the SSH keepalive allowance (the controller reaches the cut host
 * over the same port), so the stall is declared after 1 s without new bytes.
 */
const STALL_QUIET_MS = 1000;
const STALL_TIMEOUT_MS = 8000;

/** Cuts the destination's link; its undo goes on the teardown stack at once. */
async function cutLink(control: LinkControl, scope: TestScope, host: string): Promise<void> {
  scope.teardown.push(`restore ${control.describe(host)}`, () => control.restore(host));
  await control.cut(host);
}

describe('failure/link-cut: the link between the hosts goes down mid-migration (brief §7 D)', function () {
  keyedIt('D-link-a', 'D-link-a: cut during pre-copy → the stream stalls without failing; once the link is back the migration completes and the guest runs on the destination', async function () {
    requireCapabilities(this, ['emulated-nic', 'link-control']);
    const lab = this.lab;
    const control = lab.linkControl!;
    const destinationHost = lab.pair.destination;
    this.scope.references.push(...FAILURE_REFERENCES);
    Object.assign(this.scope.labels, { scenario: 'D-link-a', fault: `${control.describe(destinationHost)} down until the stream stalls`, backend: 'emulated' });
    const guest = await startSourceGuest(lab, this.scope);
    const destination = await lab.launchVm(this.scope, { host: destinationHost, role: 'dst', isIncoming: true });
    let stall: { bytes: number; sinceMs: number } | null = null;
    const cutUntilStalled: PhaseHook = {
      name: 'cut the link until the stream stalls, then restore it',
      at: FAILURE_HOOK_AT,
      action: async ({ record }) => {
        await cutLink(control, this.scope, destinationHost);
        try {
          stall = await waitForStall(record, { quietMs: STALL_QUIET_MS, timeoutMs: STALL_TIMEOUT_MS });
        } finally {
          await control.restore(destinationHost);
        }
      },
    };
    const record = await lab.migrate(this.scope, guest.vm, destination, { probe: guest.probe, hooks: [cutUntilStalled], maxBandwidthBytesPerSec: FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC });

    expect(record.hooks[0]?.error ?? null, 'the cut/stall hook').to.equal(null);
    expect(stall, 'a stall while the link was down').to.not.equal(null);
    this.scope.writeArtifact('stall.json', 'other', 'where the stream stalled while the link was down', JSON.stringify(stall));
    expect(record).to.have.completed();
    expect(await control.isUp(destinationHost), 'link restored').to.equal(true);
    expect(await readBootId(destination.openConsole()), 'boot id on the destination').to.equal(guest.bootId);
  });

  keyedIt('D-link-b', 'D-link-b: cut during pre-copy and left down → the stream stalls, migrate_cancel still ends it, the source keeps running the guest', async function () {
    requireCapabilities(this, ['emulated-nic', 'link-control']);
    const lab = this.lab;
    const control = lab.linkControl!;
    const destinationHost = lab.pair.destination;
    this.scope.references.push(...FAILURE_REFERENCES);
    Object.assign(this.scope.labels, { scenario: 'D-link-b', fault: `${control.describe(destinationHost)} down, then migrate_cancel`, backend: 'emulated' });
    const guest = await startSourceGuest(lab, this.scope);
    const destination = await lab.launchVm(this.scope, { host: destinationHost, role: 'dst', isIncoming: true });
    let statusAtCancel: string | null = null;
    const cutAndCancel: PhaseHook = {
      name: 'cut the link, wait for the stall, migrate_cancel',
      at: FAILURE_HOOK_AT,
      action: async ({ record }) => {
        await cutLink(control, this.scope, destinationHost);
        try {
          await waitForStall(record, { quietMs: STALL_QUIET_MS, timeoutMs: STALL_TIMEOUT_MS });
          statusAtCancel = (await guest.vm.qmp.execute<{ status: string }>('query-migrate')).status;
          await guest.vm.qmp.execute('migrate_cancel');
          // Three endings are real here: the cancel wins (cancelling → cancelled); the source's own
          // stack gives up on the dead path first (its neighbour entry fails, the socket gets an
          // error) and the migration fails with a channel error before the cancel lands; or the
          // cancel itself fails it: QEMU's migrate_cancel shuts down the return path's channel,
          // which is the stream's socket too, before it sets CANCELLING, and the migration
          // thread's next write can fail on it first ("Unable to write to socket: Broken pipe").
          await waitFor('the source to end the migration with the link down', async () => {
            const status = (await guest.vm.qmp.execute<{ status: string }>('query-migrate')).status;
            return status === 'cancelled' || status === 'failed' ? { isDone: true, value: status } : { isDone: false, seen: status };
          }, { timeoutMs: 10_000, intervalMs: 50 });
        } finally {
          // Back before the hook returns, whatever happened: a link left down past the SSH
          // keepalive would turn this product test into a lab failure.
          await control.restore(destinationHost);
        }
      },
    };
    const record = await lab.migrate(this.scope, guest.vm, destination, { probe: guest.probe, hooks: [cutAndCancel], maxBandwidthBytesPerSec: FAILURE_MAX_BANDWIDTH_BYTES_PER_SEC });

    expect(record.hooks[0]?.error ?? null, 'the cut/stall/cancel hook').to.equal(null);
    const statuses = migrationStatuses(record, 'source');
    this.scope.labels['ending'] = record.outcome ?? 'none';
    if (statuses.includes('cancelling')) {
      expect(record.outcome, `outcome (${record.reason ?? 'no reason'})`).to.equal('cancelled');
      expect(statuses, 'source MIGRATION events').to.include('cancelled');
    } else if (wasFailedByCancel(record, statusAtCancel) && /Broken pipe/.test(record.reason ?? '')) {
      this.scope.labels['ending'] = 'failed-by-cancel';
      expect(record.outcome, `outcome (${record.reason ?? 'no reason'})`).to.equal('failed');
      expect(record.reason, 'error-desc').to.equal('Unable to write to socket: Broken pipe');
      expect(statuses, 'source MIGRATION events').to.include('failed');
    } else {
      // The stack's error came first: a failure with its reason, never a silent end.
      expect(record.outcome, `outcome (${record.reason ?? 'no reason'})`).to.equal('failed');
      expect(record.reason ?? '', 'error-desc').to.match(/Channel error|Input\/output error|No route to host/);
      expect(statuses, 'source MIGRATION events').to.include('failed');
    }
    expect(record.isSourceResumed, 'source running').to.equal(true);
    await guest.probe.waitForReply(5000);
    expect(await readBootId(guest.vm.openConsole()), 'boot id on the source').to.equal(guest.bootId);
  });
});
