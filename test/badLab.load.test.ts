import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, formatProblem } from '../harness/config/ConfigError.js';
import { loadLab } from '../harness/config/loadLab.js';
import { ExitCode } from '../harness/cli/ExitCode.js';
import { BAD_LAB_DIR, MANIFEST_FILE, expectedCode, expectedMessage, readBadLabCases } from './support/badLabCorpus.js';
import { runCli } from './support/runCli.js';

const cases = readBadLabCases();

/** The error loadLab throws for `file`; fails the test if it accepts the file. */
function loadError(file: string): ConfigError {
  try {
    loadLab(file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  expect.fail(`loadLab accepted ${file}, which the corpus says is broken`);
}

describe('bad-lab corpus: the loader and `hil` refuse every broken lab file with its exact error', function () {
  it('lists every file of test/bad-lab exactly once, and has at least 50 cases', () => {
    const listed = cases.map((badLab) => badLab.file);
    expect(new Set(listed).size, 'a file listed twice').to.equal(listed.length);
    const onDisk = readdirSync(BAD_LAB_DIR).filter((name) => name !== MANIFEST_FILE).sort();
    expect(cases.filter((badLab) => badLab.absent !== true).map((badLab) => badLab.file).sort()).to.deep.equal(onDisk);
    for (const badLab of cases.filter((c) => c.absent === true)) expect(existsSync(join(BAD_LAB_DIR, badLab.file)), badLab.file).to.equal(false);
    expect(cases.length).to.be.at.least(50);
  });

  for (const badLab of cases.filter((c) => c.via === undefined)) {
    it(`${badLab.file}: ${badLab.broken}`, async () => {
      const file = join(BAD_LAB_DIR, badLab.file);
      const message = expectedMessage(badLab, { file });
      const error = loadError(file);
      expect({ code: error.code, message: error.message }).to.deep.equal({ code: expectedCode(badLab), message });
      // The structured problems agree with the text, so a report or an editor places them right.
      expect(error.problems.map(formatProblem).join('\n')).to.equal(error.code === 'CONFIG_INVALID' ? message : '');
      for (const problem of error.problems) expect(problem.file).to.equal(file);

      // What a user sees: the same text on stderr (then the causes, if any), nothing on stdout,
      // and a lab failure's exit code.
      const run = await runCli(['--lab', file, 'preflight']);
      expect({ exitCode: run.exitCode, out: run.out, lines: run.err.length }).to.deep.equal({ exitCode: ExitCode.labFailure, out: [], lines: 1 });
      const [shown = '', ...causes] = run.err[0]!.split('\n  caused by: ');
      expect(shown).to.equal(`hil: [${expectedCode(badLab)}] ${message}`);
      expect(causes.length, 'caused by lines').to.equal(error.code === 'CONFIG_INVALID' ? 0 : 1);
    });
  }
});
