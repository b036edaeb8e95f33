import { expect } from 'chai';
import { parseExpectations } from '../../harness/config/loadExpectations.js';
import { ConfigError } from '../../harness/config/ConfigError.js';
import { ExitCode } from '../../harness/cli/ExitCode.js';
import { runExitCode } from '../../harness/cli/runExitCode.js';
import { checkExpectations, type RunSelection } from '../../harness/report/checkExpectations.js';
import { syntheticRun, type SyntheticTest } from '../support/syntheticRun.js';
import type { RunResults } from '../../harness/report/RunResults.js';

const FILE = `# yaml-language-server: $schema=../schema/expect.schema.json
description: fixture lab
tests:
  migration/ping-pong:virtio/no-viommu: PASS
  migration/ping-pong:e1000e/no-viommu:
    outcome: SKIP
    reason: "no e1000e driver"
  bugs/unmap:vtd-unmap: FIXED
  bugs/listener:pt-to-blocked: NOT-REACHABLE
  failure/cancel:D1:
    outcome: FAIL
    link: https://lore.kernel.org/qemu-devel/known
    reason: "cancelled too late"
  failure/cancel:D9: PASS
  admission/admission:A1/legacy: PASS
`;

/** A run of the tests given as [id, outcome, extra], written as `hil run` writes them. */
function run(tests: readonly [string, SyntheticTest['outcome'], Partial<SyntheticTest & { skipReason: string }>?][]): RunResults {
  const results = syntheticRun('20260101-000000-aaaa', '2026-01-01T00:00:00.000Z', tests.map(([id, outcome, extra]) => ({ title: id, outcome, ...extra })));
  results.tests.forEach((t, i) => {
    const [id, , extra] = tests[i]!;
    Object.assign(t, { id, skipReason: t.outcome === 'SKIP' ? extra?.skipReason ?? 'skipped' : null });
  });
  return results;
}

const SELECTION: RunSelection = {
  specFiles: new Set(['migration/ping-pong', 'bugs/unmap', 'bugs/listener', 'failure/cancel']),
  declaredIds: new Set(['migration/ping-pong:virtio/no-viommu', 'migration/ping-pong:e1000e/no-viommu', 'bugs/unmap:vtd-unmap', 'bugs/listener:pt-to-blocked', 'failure/cancel:D1', 'failure/cancel:D2']),
  selectedIds: new Set(['migration/ping-pong:virtio/no-viommu', 'migration/ping-pong:e1000e/no-viommu', 'bugs/unmap:vtd-unmap', 'bugs/listener:pt-to-blocked', 'failure/cancel:D1', 'failure/cancel:D2']),
};

describe('verdicts: expectation files', function () {
  it('reads shorthand and long entries, with the line each came from', function () {
    const file = parseExpectations(FILE, 'expect/fixture.yaml');
    expect(file.tests.get('migration/ping-pong:virtio/no-viommu')).to.deep.equal({ outcome: 'PASS', reason: null, link: null, place: 'expect/fixture.yaml:4' });
    expect(file.tests.get('failure/cancel:D1')).to.deep.include({ outcome: 'FAIL', link: 'https://lore.kernel.org/qemu-devel/known', place: 'expect/fixture.yaml:10' });
  });

  it('refuses a bad file with every problem at its file:line:col', function () {
    const bad = `tests:
  migration/ping-pong:a: PASSED
  migration/ping-pong:b: { outcome: SKIP }
  migration/ping-pong:c: { outcome: FAIL, reason: "x" }
  migration/ping-pong:d: { outcome: SKIP, reason: "(" }
  "not an id": PASS
`;
    let error: unknown;
    try {
      parseExpectations(bad, 'expect/bad.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).to.match(/^expect\/bad\.yaml:2:\d+ .*must be one of PASS, REPRODUCED, FIXED, NOT-REACHABLE/m);
    expect(message).to.match(/^expect\/bad\.yaml:3:\d+ /m);
    expect(message).to.match(/^expect\/bad\.yaml:4:\d+ /m);
    expect(message).to.match(/^expect\/bad\.yaml:6:\d+ .*a test id/m);
    // The regular expression is checked once the shape is right.
    expect(() => parseExpectations('tests:\n  migration/ping-pong:d: { outcome: SKIP, reason: "(" }\n', 'expect/re.yaml')).to.throw(/^expect\/re\.yaml:2:\d+ .*must be a regular expression/m);
  });

  it('finds each kind of difference: another verdict, a skip instead, a known failure that passed, a missing test, an unnamed one', function () {
    const file = parseExpectations(FILE, 'expect/fixture.yaml');
    const results = run([
      ['migration/ping-pong:virtio/no-viommu', 'FLAKY'],
      ['migration/ping-pong:e1000e/no-viommu', 'SKIP', { skipReason: 'missing capability: no e1000e driver in the image' }],
      ['bugs/unmap:vtd-unmap', 'SKIP', { skipReason: 'missing capability: vfio' }],
      ['bugs/listener:pt-to-blocked', 'SKIP', { skipReason: 'not reachable on this QEMU: QEMU 10.0.2 is older than 11.0' }],
      ['failure/cancel:D1', 'PASS'],
      ['failure/cancel:D2', 'PASS'],
    ]);
    const report = checkExpectations(file, results.tests, SELECTION);
    expect(report.matched).to.equal(3);
    expect(report.mismatches.map((m) => [m.id, m.kind])).to.deep.equal([
      ['bugs/unmap:vtd-unmap', 'outcome'],
      ['failure/cancel:D1', 'known-failure-passed'],
      ['failure/cancel:D2', 'unexpected-test'],
      ['failure/cancel:D9', 'missing'],
    ]);
    expect(report.mismatches[0]!.text).to.include('expected FIXED (expect/fixture.yaml:8), got SKIP (missing capability: vfio)');
    expect(report.notInRun).to.deep.equal(['admission/admission:A1/legacy']);
    expect(results.tests[0]!.expectation).to.include({ isMet: true });
    expect(results.tests[2]!.expectation).to.include({ isMet: false });
    results.expectations = report;
    expect(runExitCode(results, { isPublished: true, isInterrupted: false, maxFlaky: 1 }).code).to.equal(ExitCode.expectationMismatch);
  });

  it('a known FAIL that fails as known is met; one that fails otherwise is not, and a FAIL nobody expected is a product failure', function () {
    const file = parseExpectations('tests:\n  failure/cancel:D1: { outcome: FAIL, link: "https://x.invalid/1", reason: "cancelled too late" }\n  failure/cancel:D2: PASS\n', 'e.yaml');
    const selection: RunSelection = { specFiles: new Set(['failure/cancel']), declaredIds: new Set(['failure/cancel:D1', 'failure/cancel:D2']), selectedIds: new Set(['failure/cancel:D1', 'failure/cancel:D2']) };
    const known = run([['failure/cancel:D1', 'FAIL', { error: 'migration cancelled too late' }], ['failure/cancel:D2', 'PASS']]);
    known.expectations = checkExpectations(file, known.tests, selection);
    expect(known.expectations.mismatches).to.deep.equal([]);
    expect(runExitCode(known, { isPublished: true, isInterrupted: false, maxFlaky: 0 }).code).to.equal(ExitCode.ok);
    const other = run([['failure/cancel:D1', 'FAIL', { error: 'QMP socket closed' }], ['failure/cancel:D2', 'FAIL', { error: 'boom' }]]);
    other.expectations = checkExpectations(file, other.tests, selection);
    expect(other.expectations.mismatches.map((m) => m.id)).to.deep.equal(['failure/cancel:D1', 'failure/cancel:D2']);
    expect(runExitCode(other, { isPublished: true, isInterrupted: false, maxFlaky: 0 }).code).to.equal(ExitCode.productFailure);
  });
});

describe('verdicts: exit codes of hil run', function () {
  const code = (tests: Parameters<typeof run>[0], maxFlaky = 0) => runExitCode(run(tests), { isPublished: true, isInterrupted: false, maxFlaky }).code;

  it('a bug run that was skipped is "not judged" (3), never 0 like FIXED', function () {
    expect(code([['bugs/unmap:vtd-unmap', 'SKIP', { skipReason: 'not reachable on this QEMU: ...' }]])).to.equal(ExitCode.notJudged);
    expect(code([['bugs/unmap:vtd-unmap', 'FIXED']])).to.equal(ExitCode.ok);
    expect(code([['bugs/unmap:vtd-unmap', 'REPRODUCED']])).to.equal(ExitCode.ok);
    expect(code([['bugs/unmap:vtd-unmap', 'UNEXPECTED']])).to.equal(ExitCode.productFailure);
    expect(code([])).to.equal(ExitCode.notJudged);
  });

  it('FAIL beats ERROR beats everything else; a run with some verdicts and some skips is 0', function () {
    expect(code([['a:x', 'ERROR'], ['a:y', 'FAIL']])).to.equal(ExitCode.productFailure);
    expect(code([['a:x', 'ERROR'], ['a:y', 'PASS']])).to.equal(ExitCode.labFailure);
    expect(code([['a:x', 'SKIP'], ['a:y', 'PASS']])).to.equal(ExitCode.ok);
  });

  it('more FLAKY tests than --max-flaky fail the run as a lab failure (2)', function () {
    expect(code([['a:x', 'FLAKY'], ['a:y', 'PASS']])).to.equal(ExitCode.labFailure);
    expect(code([['a:x', 'FLAKY'], ['a:y', 'PASS']], 1)).to.equal(ExitCode.ok);
    // A bug verdict reached only on a retry counts as FLAKY too.
    expect(code([['a:x', 'FIXED', { attempts: 2 }]])).to.equal(ExitCode.labFailure);
  });
});
