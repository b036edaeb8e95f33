import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkBuildIsCurrent, findStaleSources } from '../../harness/cli/staleBuild.js';
import { sourceRevision } from '../../harness/cli/sourceRevision.js';
import { projectRoot } from '../../harness/projectRoot.js';

/** Verdicts on stale code: `hil run` refuses compiled code older than its source. */
describe('verdicts: stale builds', function () {
  let root: string;
  const write = (path: string, atSeconds: number): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), '');
    utimesSync(join(root, path), atSeconds, atSeconds);
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hil-stale-'));
    write('harness/a.ts', 1000);
    write('dist/harness/a.js', 2000);
    write('suites/migration/x.spec.ts', 1000);
    write('dist/suites/migration/x.spec.js', 2000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('a build newer than every source is current', function () {
    expect(findStaleSources(root)).to.deep.equal([]);
    expect(() => checkBuildIsCurrent(root)).to.not.throw();
  });

  it('a spec edited after the build, or a source never built, is refused with what to do', function () {
    write('suites/migration/x.spec.ts', 3000);
    write('harness/new.ts', 1000);
    expect(findStaleSources(root)).to.deep.equal([
      { source: 'harness/new.ts', why: 'not built' },
      { source: 'suites/migration/x.spec.ts', why: 'newer' },
    ]);
    expect(() => checkBuildIsCurrent(root)).to.throw(/suites\/migration\/x\.spec\.ts \(changed since the last build\)[\s\S]*npm run build/);
  });

  it('records the git commit of the sources and whether they differ from it', function () {
    const revision = sourceRevision(projectRoot());
    expect(revision.commit).to.match(/^[0-9a-f]{40}$/);
    expect(revision.isDirty).to.be.a('boolean');
    expect(sourceRevision(root)).to.include({ commit: null, isDirty: null });
  });
});
