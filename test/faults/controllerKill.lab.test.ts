/**
 * Fault: the controller (`hil run`) is SIGKILLed while a migration runs. Its QEMUs, journals and
 * lease stay on the hosts; the next run breaks the dead run's lease, replays its journals before
 * preflight, and leaves the hosts with nothing of either run.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { loadLab } from '../../harness/config/loadLab.js';
import { projectRoot } from '../../harness/projectRoot.js';
import { injectControllerKill, RUN_DEADLINE_MS } from './inRunFaults.js';

const lab = loadLab(join(projectRoot(), 'lab.yaml'));

describe('fault: the controller is SIGKILLed mid-migration', function () {
  this.timeout(3 * RUN_DEADLINE_MS);

  it('the next run replays the host journals first and leaves nothing behind', async () => {
    const verdict = await injectControllerKill(lab);
    const { runId, leftByRun, nextRunJournalChecks } = verdict.evidence as { runId: string; leftByRun: string[]; nextRunJournalChecks: string[] | null };
    expect(verdict.exit, verdict.output).to.equal('SIGKILL');
    // The killed run could not clean: this is what the next one had to undo.
    expect(leftByRun.filter((item) => item.startsWith('QEMU pid ')), 'QEMUs left by the killed run').to.have.length(2);
    expect(leftByRun.filter((item) => / journal\/entries \(runs /.test(item)), 'journals left by the killed run').to.have.length(2);
    expect(nextRunJournalChecks, verdict.output).to.deep.equal(Object.keys(lab.hosts).sort().map((host) => `${host}: undid 1 change(s) left by run(s) ${runId}`));
    expect(verdict.output).to.match(/warning: Breaking the lease on host-a .* that process no longer exists on this controller/);
    expect(verdict.residue, 'left on the hosts').to.deep.equal([]);
  });
});
