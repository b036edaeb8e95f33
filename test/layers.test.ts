import { expect } from 'chai';
import { join } from 'node:path';
import { projectRoot } from '../harness/projectRoot.js';
import { cruiseLayers, describeViolation } from './support/cruiseLayers.js';

const root = projectRoot();

describe('the layering of .dependency-cruiser.cjs (dependency-cruiser)', function () {
  this.timeout(120_000);

  it('finds no import against the layers, no cycle and no test support or devDependency in shipped code', async () => {
    const { violations, modulesCruised } = await cruiseLayers(root, ['harness', 'suites', 'bench', 'bin', 'test']);
    const lines = violations.map(describeViolation);
    expect(lines, `${lines.length} layering violation(s):\n  ${lines.join('\n  ')}\n`).to.deep.equal([]);
    // An empty list means something only if the sources were read: the harness has hundreds of modules.
    expect(modulesCruised).to.be.above(300);
  });

  it('reports a back edge, a cycle and a devDependency in shipped code (checked on a fixture tree)', async () => {
    const { violations } = await cruiseLayers(join(root, 'test', 'fixtures', 'layers'), ['harness']);
    expect(violations.map(describeViolation).sort()).to.deep.equal([
      'layer-config: harness/config/readsSsh.ts -> harness/ssh/sshPort.ts',
      'no-circular: harness/ssh/ping.ts -> harness/ssh/pong.ts (cycle: harness/ssh/ping.ts -> harness/ssh/pong.ts -> harness/ssh/ping.ts)',
      'shipped-not-dev-dependency: harness/ssh/assertsPort.ts -> ../../../node_modules/chai/index.js',
    ]);
  });
});
