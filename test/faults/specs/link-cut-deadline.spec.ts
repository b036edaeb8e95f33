import * as chai from 'chai';
import { requireCapabilities } from '../../../harness/mocha/mochaContext.js';
import type { PhaseHook } from '../../../harness/migration/PhaseHook.js';
import { waitFor } from '../../../harness/waitFor.js';
import { SLOW_MAX_BANDWIDTH_BYTES_PER_SEC } from './faultWindow.js';
import { keyedIt } from '../../../harness/mocha/testId.js';

const { expect } = chai;

/**
 * The migration's deadline here. The cut also cuts the controller's SSH to the destination, so
 * the link must come back well inside the keepalive allowance (3 × 5 s): a deadline of 6 s keeps
 * the cut under 7 s.
 */
const DEADLINE_MS = 6000;

describe('faults/link-cut-deadline: the link between the hosts is cut and stays down past the migration deadline (issue 6)', function () {
  keyedIt('link-cut-deadline', 'the harness ends the stalled migration at its deadline with the phase and the last query-migrate, and the source keeps running', async function () {
    requireCapabilities(this, ['emulated-nic', 'link-control']);
    const lab = this.lab;
    const control = lab.linkControl!;
    const destinationHost = lab.pair.destination;
    Object.assign(this.scope.labels, { scenario: 'link-cut-deadline', fault: `${control.describe(destinationHost)} down past the deadline`, backend: 'emulated' });
    const source = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src' });
    const probe = await lab.startProbe(this.scope);
    await probe.waitForReply(lab.lab.defaults.timeouts.bootMs);
    const destination = await lab.launchVm(this.scope, { host: destinationHost, role: 'dst', isIncoming: true });
    const cutPastDeadline: PhaseHook = {
      name: 'cut the link to the destination until the harness ended the migration',
      at: { kind: 'activeFor', ms: 300 },
      action: async ({ record }) => {
        this.scope.teardown.push(`restore ${control.describe(destinationHost)}`, () => control.restore(destinationHost));
        await control.cut(destinationHost);
        try {
          // The harness marks the record "timeout" at its deadline, then sends migrate_cancel.
          await waitFor('the harness to end the migration at its deadline', () => (record.outcome === 'timeout' ? { isDone: true, value: true } : { isDone: false, seen: `outcome ${record.outcome ?? 'none yet'}` }), { timeoutMs: DEADLINE_MS + 5000, intervalMs: 50 });
        } finally {
          await control.restore(destinationHost);
        }
      },
    };
    const record = await lab.migrate(this.scope, source, destination, { probe, hooks: [cutPastDeadline], maxBandwidthBytesPerSec: SLOW_MAX_BANDWIDTH_BYTES_PER_SEC, timeoutMs: DEADLINE_MS });

    expect(record.hooks[0]?.error ?? null, 'the cut hook').to.equal(null);
    expect(record.outcome, `outcome (${record.reason ?? 'no reason'})`).to.equal('timeout');
    expect(record.reason, 'the reason names the deadline, the phase and the last query-migrate').to.match(new RegExp(`within ${DEADLINE_MS} ms; last query-migrate: status active, \\d+ bytes sent`));
    expect(record.isSourceResumed, 'source running').to.equal(true);
    expect(await control.isUp(destinationHost), 'link restored').to.equal(true);
    await probe.waitForReply(5000);
  });
});
