/**
 * Fault: a host's key changed between runs (the controller's known_hosts holds another key for
 * the source). `hil preflight` and `hil run` refuse with a message that says so and how to fix
 * it, exit 2, and change nothing: no lease, no journal, no login on that host.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { loadLab } from '../../harness/config/loadLab.js';
import { projectRoot } from '../../harness/projectRoot.js';
import type { FaultVerdict } from './FaultVerdict.js';
import { RUN_DEADLINE_MS } from './inRunFaults.js';
import { injectHostKeyChanged } from './refusalFaults.js';

const lab = loadLab(join(projectRoot(), 'lab.yaml'));
const source = lab.pairs[0]!.source;

function expectRefusedUntouched(verdict: FaultVerdict): void {
  expect(verdict.exit, verdict.output).to.equal('2');
  expect(verdict.messageHead).to.match(/SSH host key check for \S+ failed: host key changed: the host offered ssh-ed25519 SHA256:\S+, but \S+known_hosts:1 holds a different ssh-ed25519 key/);
  expect(verdict.output).to.contain('ssh-keygen -R');
  expect(verdict.residue, 'left on the hosts').to.deep.equal([]);
  // The key is checked before authentication: the changed host never let the controller in.
  expect((verdict.evidence['logins'] as string[]).filter((line) => line.startsWith(`${source}:`)), `logins on ${source}`).to.deep.equal([]);
}

describe('fault: a host key changed between runs', function () {
  this.timeout(RUN_DEADLINE_MS);

  it('hil preflight refuses with the clear message, exit 2, and touches nothing', async () => {
    expectRefusedUntouched(await injectHostKeyChanged(lab, 'preflight'));
  });

  it('hil run refuses with the clear message, exit 2, and touches nothing (no lease, no journal)', async () => {
    const verdict = await injectHostKeyChanged(lab, 'run');
    expectRefusedUntouched(verdict);
    expect(verdict.messageHead).to.match(/^hil: \[SSH_HOSTKEY_CHANGED\] /);
  });
});
