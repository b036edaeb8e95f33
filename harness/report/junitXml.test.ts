import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianTool } from '../../test/support/debianTool.js';
import { junitXsdFiles, xmllint } from '../../test/support/junitXsd.js';
import { cellLabels, syntheticRun } from '../../test/support/syntheticRun.js';
import { renderJunitXml } from './junitXml.js';
import type { RunResults } from './RunResults.js';

function run(): RunResults {
  return syntheticRun('20260101-000000-aaaa', '2026-01-01T00:00:00.000Z', [
    { title: 'passes', outcome: 'PASS', labels: cellLabels('virtio-net-pci', 'none'), downtimesMs: [12, 14] },
    { title: 'fails <with> "markup" & \u001b[31mANSI\u001b[0m', outcome: 'FAIL', error: 'downtime 400 ms is above 300 ms\u0007', labels: cellLabels('virtio-net-pci', 'none'), downtimesMs: [400] },
    { title: 'lab broke', outcome: 'ERROR', error: 'SSH connection to root@10.0.0.1:22 lost' },
    { title: 'needs vfio', outcome: 'SKIP' },
    { title: 'flaky', outcome: 'FLAKY', downtimesMs: [20] },
    { title: 'bug reproduced', outcome: 'REPRODUCED' },
    { title: 'bug unexpected', outcome: 'UNEXPECTED', error: 'neither reproduced nor fixed' },
  ]);
}

describe('junit.xml', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'hil-junit-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('maps outcomes: ERROR → <error>, FAIL/UNEXPECTED → <failure>, SKIP → <skipped message>; counts on suites', () => {
    const xml = renderJunitXml(run());
    expect(xml).to.match(/<testsuites name="vfio-hil 20260101-000000-aaaa" tests="7" failures="2" errors="1" time="/);
    expect(xml).to.match(/<testsuite name="synthetic suite" id="0" package="synthetic" tests="7" failures="2" errors="1" skipped="1"/);
    expect(xml).to.include('<error type="QMP_ERROR" message="lab error, not a product verdict: SSH connection to root@10.0.0.1:22 lost">');
    expect(xml).to.include('<failure type="QMP_ERROR" message="downtime 400 ms is above 300 ms\uFFFD">[QMP_ERROR] downtime 400 ms is above 300 ms\uFFFD\ncaused by: socket closed</failure>');
    expect(xml).to.include('<skipped message="missing capability: vfio on host-a (no IOMMU)"/>');
    expect(xml).to.include('name="fails &lt;with&gt; &quot;markup&quot; &amp; \uFFFD[31mANSI\uFFFD[0m"');
    expect((xml.match(/<failure /g) ?? []).length).to.equal(2);
  });

  it('carries measurements as properties and artifacts as [[ATTACHMENT|path]] lines', () => {
    const xml = renderJunitXml(run());
    expect(xml).to.include('<property name="passes :: m1 host-a→host-b :: downtimeMs" value="12"/>');
    expect(xml).to.include('<property name="hil.host.host-a.qemu" value="10.0.2"/>');
    expect(xml).to.include('[[ATTACHMENT|artifacts/001-test/m1.migration.json]]');
    expect(xml).to.include('m1 host-a→host-b completed: downtimeMs=12 ms, pauseWindowMs=13 ms');
    expect(xml).to.include('outcome: FLAKY after 2 attempts');
  });

  it('validates with xmllint against the Jenkins JUnit XSD (skipped@message being the one extension)', function () {
    const tool = debianTool('xmllint', 'libxml2-utils');
    if ('reason' in tool) {
      console.log(`      skipped: ${tool.reason}`);
      this.skip();
    }
    const file = join(dir, 'junit.xml');
    writeFileSync(file, renderJunitXml(run()));
    const xsd = junitXsdFiles(dir);
    const extended = xmllint(tool.path, xsd.withSkippedMessage, file);
    expect(extended.errors).to.deep.equal([]);
    expect(extended.isValid).to.equal(true);
    // Against the untouched XSD, the skipped message attribute is all it objects to.
    const pristine = xmllint(tool.path, xsd.pristine, file);
    expect(pristine.isValid).to.equal(false);
    expect(pristine.errors).to.have.length(1);
    expect(pristine.errors[0]).to.match(/Element 'skipped', attribute 'message': The attribute 'message' is not allowed/);
  });

  it('an empty run is still a valid document', function () {
    const tool = debianTool('xmllint', 'libxml2-utils');
    if ('reason' in tool) this.skip();
    const file = join(dir, 'empty.xml');
    writeFileSync(file, renderJunitXml(syntheticRun('20260101-000000-bbbb', '2026-01-01T00:00:00.000Z', [])));
    expect(xmllint(tool.path, junitXsdFiles(dir).pristine, file)).to.deep.equal({ isValid: true, errors: [] });
  });
});

describe('junit.xml of retries and expectations', function () {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'hil-junit-expect-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('earlier attempts and an expectations testsuite stay valid against the Jenkins XSD', function () {
    const tool = debianTool('xmllint', 'libxml2-utils');
    if ('reason' in tool) this.skip();
    const results = syntheticRun('20260101-000000-cccc', '2026-01-01T00:00:00.000Z', [{ title: 'flaky <x>', outcome: 'FLAKY', downtimesMs: [20] }]);
    results.tests[0]!.earlierAttempts = [{ attempt: 1, outcome: 'ERROR', durationMs: 3000, error: { message: 'reset & "gone"', causeChain: ['reset'], code: 'GUEST_RESET_BEFORE_SHELL' }, migrations: results.tests[0]!.migrations, artifacts: [] }];
    results.expectations = { file: 'expect/x.yaml', matched: 0, notInRun: [], mismatches: [{ id: 'a/b:c', kind: 'missing', expected: { outcome: 'PASS', reason: null, link: null, place: 'expect/x.yaml:3' }, actual: null, text: 'a/b:c <did not run>' }] };
    const xml = renderJunitXml(results);
    expect(xml).to.include('<testcase name="a/b:c" classname="expectations"');
    expect(xml).to.include('attempt 1: ERROR');
    const file = join(dir, 'junit.xml');
    writeFileSync(file, xml);
    expect(xmllint(tool.path, junitXsdFiles(dir).pristine, file)).to.deep.equal({ isValid: true, errors: [] });
  });
});
