/**
 * Fault: the SSH connection of `hil run` to the source host dies mid-migration (its sshd session
 * is SIGKILLed on the host). The lab failed, not the product: the test is ERROR, and the run
 * still cleans both hosts (stopping VMs and replaying the journal reconnect, being safe to repeat).
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { loadLab } from '../../harness/config/loadLab.js';
import { projectRoot } from '../../harness/projectRoot.js';
import { injectSshDrop, RUN_DEADLINE_MS } from './inRunFaults.js';

const lab = loadLab(join(projectRoot(), 'lab.yaml'));

describe('fault: the SSH connection to the source drops mid-migration', function () {
  this.timeout(2 * RUN_DEADLINE_MS);

  it('ends the test as ERROR naming the dropped connection (not FAIL), exits 2, and leaves nothing on the hosts', async () => {
    const verdict = await injectSshDrop(lab);
    expect(verdict.outcomes, verdict.output).to.deep.equal(['ERROR']);
    expect(verdict.exit, verdict.output).to.equal('2');
    expect(verdict.messageHead).to.match(/^\[LAB_FAILED_DURING_TEST\] host-a: SSH connection to \S+ dropped at /);
    expect(verdict.residue, 'left on the hosts').to.deep.equal([]);
    expect(verdict.cleanupMs, 'hosts clean by the time the run ended').to.not.equal(null);
  });
});
