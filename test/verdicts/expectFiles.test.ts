import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import { specFiles } from '../../harness/cli/runCommand.js';
import { loadExpectations } from '../../harness/config/loadExpectations.js';
import { collectTestIds } from '../../harness/mocha/testId.js';
import { projectRoot } from '../../harness/projectRoot.js';

/** Every test id the project's suites declare, loaded the way `hil run` loads them. */
async function declaredTestIds(): Promise<Set<string>> {
  const mocha = new Mocha();
  for (const file of specFiles([join(projectRoot(), 'suites')])) mocha.addFile(file);
  await mocha.loadFilesAsync();
  const ids = new Set(collectTestIds(mocha.suite, join(projectRoot(), 'dist')).keys());
  mocha.dispose();
  return ids;
}

describe('verdicts: the project\'s expectation files', function () {
  const folder = join(projectRoot(), 'expect');
  const files = readdirSync(folder).filter((name) => name.endsWith('.yaml')).sort();
  let declared: Set<string>;

  before(async function () {
    declared = await declaredTestIds();
  });

  it('there are expectation files and the suites declare tests', function () {
    expect(files).to.include.members(['virtual.yaml', 'nested-qemu10.yaml', 'nested-qemu11.yaml', 'nested-series.yaml', 'nested-series-nofix.yaml']);
    expect(declared.size).to.be.above(40);
  });

  for (const name of files) {
    it(`${name}: loads, and every test it names is declared by a suite (a renamed test is caught here, not in CI's lab stage)`, function () {
      const file = loadExpectations(join(folder, name));
      const unknown = [...file.tests.keys()].filter((id) => !declared.has(id));
      expect(unknown, `ids in expect/${name} no suite declares`).to.deep.equal([]);
    });
  }

  it('virtual.yaml names every test of every suite (the virtual-lab run holds them all)', function () {
    const file = loadExpectations(join(folder, 'virtual.yaml'));
    const unnamed = [...declared].filter((id) => !file.tests.has(id));
    expect(unnamed, 'tests expect/virtual.yaml does not name').to.deep.equal([]);
  });
});
