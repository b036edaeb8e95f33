import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../harness/projectRoot.js';
import type { RunResults, TestResult } from '../../harness/report/RunResults.js';
import { resultsSchemaProblems } from '../../harness/report/resultsSchema.js';
import { writeRunReports } from '../../harness/report/writeRunReports.js';

/**
 * Retries that hide nothing, proven on real mocha runs of fixture specs through the mocha of
 * `hil run` (test/verdicts/fixtures/runFixture.ts): a FAIL is never retried, a lab ERROR is, and
 * every attempt keeps its error, migrations and artifacts in results.json and junit.xml.
 */
describe('verdicts: retries', function () {
  const fixtures = join(projectRoot(), 'dist', 'test', 'verdicts', 'fixtures');
  const runs: string[] = [];
  after(() => runs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  const runFixture = (spec: string, retries: number): { results: RunResults; junit: string; runDir: string; stdout: string } => {
    const runDir = mkdtempSync(join(tmpdir(), 'hil-retry-'));
    runs.push(runDir);
    const child = spawnSync(process.execPath, [join(fixtures, 'runFixture.js'), runDir, String(retries), join(fixtures, spec)], { encoding: 'utf8', timeout: 60_000 });
    expect(child.status, `${child.stdout}\n${child.stderr}`).to.equal(0);
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResults;
    expect(resultsSchemaProblems(results), 'results.json against its schema').to.deep.equal([]);
    return { results, junit: readFileSync(join(runDir, 'junit.xml'), 'utf8'), runDir, stdout: child.stdout };
  };
  const testOf = (results: RunResults, id: string): TestResult => {
    const found = results.tests.filter((t) => t.id === id);
    expect(found, `one result for ${id} in ${results.tests.map((t) => t.id).join(', ')}`).to.have.length(1);
    return found[0]!;
  };

  it('a first attempt that FAILs is not retried (nor one that times out) and stays FAIL', function () {
    const { results, runDir, stdout } = runFixture('retry-fail.spec.js', 2);
    const failed = testOf(results, 'test/verdicts/fixtures/retry-fail:fails');
    expect(failed.outcome).to.equal('FAIL');
    expect(failed.attempts).to.equal(1);
    expect(failed.earlierAttempts).to.deep.equal([]);
    expect(failed.error?.message).to.equal('assertion failed on call 1');
    // Only one attempt ran: its artifact says so, and no second attempt folder exists.
    const artifact = failed.artifacts.find((a) => a.path.endsWith('attempt.txt'))!;
    expect(readFileSync(join(runDir, artifact.path), 'utf8')).to.equal('attempt 1');
    expect(existsSync(join(runDir, artifact.path.replace(/\/attempt\.txt$/, '.attempt-2')))).to.equal(false);
    const timedOut = testOf(results, 'test/verdicts/fixtures/retry-fail:times-out');
    expect(timedOut.outcome).to.equal('FAIL');
    expect(timedOut.attempts).to.equal(1);
    expect(stdout).to.match(/^0 passed, 2 failed, 0 skipped$/m);
  });

  it('a lab ERROR then a PASS is FLAKY, with both attempts whole in results.json and junit.xml', function () {
    const { results, junit, runDir, stdout } = runFixture('retry-error.spec.js', 2);
    const flaky = testOf(results, 'test/verdicts/fixtures/retry-error:error-then-pass');
    expect(flaky.outcome).to.equal('FLAKY');
    expect(flaky.attempts).to.equal(2);
    expect(flaky.earlierAttempts).to.have.length(1);
    const first = flaky.earlierAttempts![0]!;
    expect(first).to.include({ attempt: 1, outcome: 'ERROR' });
    expect(first.error?.code).to.equal('GUEST_RESET_BEFORE_SHELL');
    expect(first.migrations.map((m) => m.measurements.downtimeMs)).to.deep.equal([2992]);
    expect(flaky.migrations.map((m) => m.measurements.downtimeMs)).to.deep.equal([221]);
    // Each attempt's artifacts in a folder of its own, none overwritten by the next.
    const firstArtifact = first.artifacts.find((a) => a.path.endsWith('attempt.txt'))!;
    const lastArtifact = flaky.artifacts.find((a) => a.path.endsWith('attempt.txt'))!;
    expect(firstArtifact.path).to.not.equal(lastArtifact.path);
    expect(readFileSync(join(runDir, firstArtifact.path), 'utf8')).to.equal('attempt 1');
    expect(readFileSync(join(runDir, lastArtifact.path), 'utf8')).to.equal('attempt 2');
    // junit.xml: FLAKY said, the first attempt's error, measurement and artifact there too.
    const testcase = /<testcase name="the guest resets[^"]*"[\s\S]*?<\/testcase>/.exec(junit)?.[0] ?? '';
    expect(testcase).to.include('FLAKY');
    expect(testcase).to.include('attempt 1: ERROR');
    expect(testcase).to.include('GUEST_RESET_BEFORE_SHELL');
    expect(testcase).to.include('downtimeMs=2992');
    expect(testcase).to.include(`[[ATTACHMENT|${firstArtifact.path}]]`);
    expect(junit).to.include('<property name="hil.flaky" value="1"/>');
    expect(junit).to.include(':: attempt 1 :: m1 host-a→host-b :: downtimeMs" value="2992"');
    // index.html: the earlier attempt shown with its error, downtime and artifact link.
    writeRunReports(runDir, results, { reportsDir: runDir });
    const page = readFileSync(join(runDir, 'index.html'), 'utf8');
    const entry = /<details class="test"[^>]*>\s*<summary><span class="badge FLAKY">[\s\S]*?<\/details>\s*<\/div>\s*<\/details>/.exec(page)?.[0] ?? '';
    expect(entry).to.include('attempt 1: <span class="badge ERROR">ERROR</span>');
    expect(entry).to.include('[GUEST_RESET_BEFORE_SHELL]');
    expect(entry).to.include('<td class="num">2992</td>');
    expect(entry).to.include(firstArtifact.path);
    expect(page).to.include('1 test(s) FLAKY');
    // A lab ERROR on every attempt: ERROR, with each earlier attempt kept.
    const broken = testOf(results, 'test/verdicts/fixtures/retry-error:always-error');
    expect(broken.outcome).to.equal('ERROR');
    expect(broken.attempts).to.equal(3);
    expect(broken.earlierAttempts!.map((a) => a.error?.message)).to.deep.equal(['SSH to host-a dropped (call 1)', 'SSH to host-a dropped (call 2)']);
    expect(stdout).to.match(/^1 passed \(1 FLAKY: passed only after a lab ERROR\), 1 failed, 0 skipped$/m);
  });
});
