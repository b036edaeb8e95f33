/**
 * Faults the suites inject themselves from a phase hook, judged from outside the run: the
 * destination QEMU killed and the link cut (suites/failure, whose tests assert the migration's
 * verdict: failed with QEMU's reason, the source resumed), and the link left down past the
 * migration deadline (test/faults/specs). Here: the run's verdict and that nothing is left.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { loadLab } from '../../harness/config/loadLab.js';
import { projectRoot } from '../../harness/projectRoot.js';
import { RUN_DEADLINE_MS } from './inRunFaults.js';
import { DESTINATION_KILLED_SPEC, injectFromSuite, LINK_CUT_DEADLINE_SPEC, LINK_CUT_SPEC } from './suiteFaults.js';

const lab = loadLab(join(projectRoot(), 'lab.yaml'));

describe('faults injected by the suites, judged from outside the run', function () {
  this.timeout(2 * RUN_DEADLINE_MS);

  it('destination QEMU SIGKILLed mid-migration: the migration failed with QEMU\'s reason, the test passes, nothing left', async () => {
    const verdict = await injectFromSuite(lab, 'destination killed', [DESTINATION_KILLED_SPEC]);
    expect(verdict.outcomes, verdict.output).to.deep.equal(['PASS']);
    expect(verdict.exit).to.equal('0');
    expect(verdict.messageHead).to.match(/^m1 failed: \S/);
    expect(verdict.residue, 'left on the hosts').to.deep.equal([]);
  });

  it('link cut mid-migration (stall then completion; stall then cancel): never a product FAIL, the link is back up, nothing left', async () => {
    const verdict = await injectFromSuite(lab, 'link cut', [LINK_CUT_SPEC]);
    // The suite's own verdicts are its owner's; a cut that outlives the SSH keepalive drops the
    // controller's connection to the destination, and that test is then the lab's ERROR, never FAIL.
    expect(verdict.outcomes, verdict.output).to.have.length(2);
    expect(verdict.outcomes.filter((outcome) => outcome !== 'PASS' && outcome !== 'ERROR'), verdict.output).to.deep.equal([]);
    // Residue includes each link's up/down state: a link left down would show here.
    expect(verdict.residue, 'left on the hosts').to.deep.equal([]);
  });

  it('link cut and left down past the deadline: the harness ends the migration naming the phase and the last query-migrate, nothing left', async () => {
    const verdict = await injectFromSuite(lab, 'link cut past the deadline', [LINK_CUT_DEADLINE_SPEC]);
    expect(verdict.outcomes, verdict.output).to.deep.equal(['PASS']);
    expect(verdict.messageHead).to.match(/^m1 timeout: migration did not finish within 6000 ms; last query-migrate: status active, \d+ bytes sent/);
    expect(verdict.residue, 'left on the hosts').to.deep.equal([]);
  });
});
