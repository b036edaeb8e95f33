import * as chai from 'chai';
import { keyedIt } from '../../../harness/mocha/testId.js';

const { expect } = chai;

/**
 * A run that changes nothing on the hosts: it leases the pair, replays what earlier runs left
 * (preflight) and ends. What the hosts hold after it is what the opening did not clean.
 */
describe('faults/no-vm: a run that starts nothing on the hosts', function () {
  keyedIt('no-vm', 'the pair is leased and preflighted', function () {
    expect(this.lab.preflight.isReady, 'preflight').to.equal(true);
  });
});
