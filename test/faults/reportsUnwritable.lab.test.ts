/**
 * Fault: the reports folder cannot be written. Root ignores permission bits, so the folder is
 * made unwritable in ways root cannot get around: a file where the folder should be, a path
 * under /proc, a full file system. `hil run` says so up front, exits 2, and never connects.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { loadLab } from '../../harness/config/loadLab.js';
import { projectRoot } from '../../harness/projectRoot.js';
import { RUN_DEADLINE_MS } from './inRunFaults.js';
import { injectReportsUnwritable, type UnwritableReports } from './refusalFaults.js';

const lab = loadLab(join(projectRoot(), 'lab.yaml'));

const CASES: readonly [UnwritableReports, RegExp][] = [
  ['file-in-the-way', /Cannot write reports to \S+\/not-a-folder\/reports: ENOTDIR/],
  ['proc', /Cannot write reports to \/proc\/hil-reports: ENOENT/],
  ['full', /Cannot write reports to \S+\/full: only \d+ KiB free on its file system, the run needs 16 MiB/],
];

describe('fault: the reports folder cannot be written', function () {
  this.timeout(RUN_DEADLINE_MS);

  for (const [how, message] of CASES) {
    it(`${how}: refused before touching any host, exit 2`, async () => {
      const verdict = await injectReportsUnwritable(lab, how);
      expect(verdict.exit, verdict.output).to.equal('2');
      expect(verdict.messageHead).to.match(/^hil: \[REPORTS_NOT_WRITABLE\] /).and.match(message);
      expect(verdict.residue, 'left on the hosts').to.deep.equal([]);
      expect(verdict.evidence['connections'], 'SSH connections the hosts\' sshds saw').to.deep.equal([]);
    });
  }
});
