import * as chai from 'chai';
import { requireCapabilities } from '../../../harness/mocha/mochaContext.js';
import { SLOW_MAX_BANDWIDTH_BYTES_PER_SEC } from './faultWindow.js';
import { keyedIt } from '../../../harness/mocha/testId.js';

const { expect } = chai;

describe('faults/slow-migration: one long pre-copy for faults injected from outside the run', function () {
  keyedIt('slow-migration', 'the guest migrates from the source to the destination at 4 MiB/s', async function () {
    requireCapabilities(this, ['emulated-nic']);
    const lab = this.lab;
    Object.assign(this.scope.labels, { scenario: 'fault-window', backend: 'emulated' });
    // No guest console here: the run's only SSH connection to each host is its own transport,
    // so a test that cuts "the harness's connection" cuts the one that matters.
    const source = await lab.launchVm(this.scope, { host: lab.pair.source, role: 'src' });
    const probe = await lab.startProbe(this.scope);
    await source.waitForEcho(probe, lab.lab.defaults.timeouts.bootMs);
    const destination = await lab.launchVm(this.scope, { host: lab.pair.destination, role: 'dst', isIncoming: true });
    const record = await lab.migrate(this.scope, source, destination, { probe, maxBandwidthBytesPerSec: SLOW_MAX_BANDWIDTH_BYTES_PER_SEC });
    expect(record.outcome, `outcome (${record.reason ?? 'no reason'})`).to.equal('completed');
  });
});
