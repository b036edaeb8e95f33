import { MEASUREMENT_UNITS } from '../migration/computeMeasurements.js';
import type { Measurements } from '../migration/MigrationRecord.js';
import { isFlaky } from './outcomeRank.js';
import type { AttemptResult, ExpectationReport, MigrationResult, RunResults, TestResult } from './RunResults.js';
import { xmlAttribute, xmlText } from './xmlText.js';

/**
 * junit.xml as Jenkins (junit plugin) and GitLab read it, valid against the Jenkins junit-4 XSD:
 * one <testsuite> per mocha suite; ERROR → <error> (the lab failed), FAIL/UNEXPECTED → <failure>,
 * SKIP → <skipped message="missing capability ...">. That XSD allows <properties> only on
 * <testsuite>, so each test's measurements are suite properties named "<test> :: <migration> ::
 * <measurement>"; artifacts are "[[ATTACHMENT|path]]" lines in the test's <system-out>, the
 * convention of Jenkins' junit-attachments plugin and of GitLab, with paths relative to the run
 * folder (where junit.xml sits). A retried test's earlier attempts (outcome, error, migrations,
 * artifacts) are in its <system-out> and its measurements in the properties ("attempt 1 :: ...");
 * the XSD has no element for FLAKY, so it is said there and counted in the property hil.flaky.
 * With an expectation file, each difference is a <failure> of a testcase in a testsuite
 * "expectations", so CI shows it where it shows failures.
 */
export function renderJunitXml(results: RunResults): string {
  const suites = new Map<string, TestResult[]>();
  for (const test of results.tests) suites.set(test.suite, [...(suites.get(test.suite) ?? []), test]);
  const count = (tests: readonly TestResult[]) => ({
    tests: tests.length,
    failures: tests.filter((t) => t.outcome === 'FAIL' || t.outcome === 'UNEXPECTED').length,
    errors: tests.filter((t) => t.outcome === 'ERROR').length,
    skipped: tests.filter((t) => t.outcome === 'SKIP').length,
    time: seconds(tests.reduce((sum, t) => sum + t.durationMs, 0)),
  });
  const all = count(results.tests);
  const differences = results.expectations?.mismatches.length ?? 0;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttribute(`vfio-hil ${results.runId}`)}" tests="${all.tests + differences}" failures="${all.failures + differences}" errors="${all.errors}" time="${all.time}">`,
  ];
  let index = 0;
  for (const [suite, tests] of suites) {
    const c = count(tests);
    lines.push(`  <testsuite name="${xmlAttribute(suite || '(root)')}" id="${index++}" package="${xmlAttribute(results.lab.name)}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${c.time}" timestamp="${results.startedAt.replace(/\.\d+Z$/, '')}" hostname="${xmlAttribute(results.pair?.name ?? 'merged')}">`);
    const properties = [...runProperties(results), ...tests.flatMap(testProperties)];
    if (properties.length > 0) {
      lines.push('    <properties>');
      for (const [name, value] of properties) lines.push(`      <property name="${xmlAttribute(name)}" value="${xmlAttribute(value)}"/>`);
      lines.push('    </properties>');
    }
    for (const test of tests) lines.push(...testcase(test));
    lines.push('  </testsuite>');
  }
  if (results.expectations !== undefined) lines.push(...expectationSuite(results.expectations, index, results));
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function testcase(test: TestResult): string[] {
  const open = `    <testcase name="${xmlAttribute(test.title)}" classname="${xmlAttribute(test.suite || test.file)}" time="${seconds(test.durationMs)}"`;
  const body: string[] = [];
  const message = test.error?.message ?? '';
  const detail = test.error === null ? '' : (test.error.causeChain.length > 0 ? test.error.causeChain.join('\ncaused by: ') : test.error.message);
  switch (test.outcome) {
    case 'SKIP':
      body.push(`      <skipped message="${xmlAttribute(test.skipReason ?? 'skipped')}"/>`);
      break;
    case 'ERROR':
      body.push(`      <error type="${xmlAttribute(test.error?.code ?? 'LAB_ERROR')}" message="${xmlAttribute(`lab error, not a product verdict: ${message}`)}">${xmlText(detail)}</error>`);
      break;
    case 'FAIL':
    case 'UNEXPECTED':
      body.push(`      <failure type="${xmlAttribute(test.error?.code ?? test.outcome)}" message="${xmlAttribute(message)}">${xmlText(detail)}</failure>`);
      break;
    default:
      break;
  }
  const out = systemOut(test);
  if (out !== '') body.push(`      <system-out>${xmlText(out)}</system-out>`);
  return body.length === 0 ? [`${open}/>`] : [`${open}>`, ...body, '    </testcase>'];
}

function systemOut(test: TestResult): string {
  const lines: string[] = [`id: ${test.id}`];
  if (isFlaky(test)) lines.push(`outcome: ${test.outcome} after ${test.attempts} attempts${test.outcome === 'FLAKY' ? '' : ', FLAKY'} (the earlier ones were lab ERRORs)`);
  else if (test.outcome !== 'PASS' && test.outcome !== 'FAIL' && test.outcome !== 'ERROR' && test.outcome !== 'SKIP') lines.push(`outcome: ${test.outcome}${test.attempts > 1 ? ` after ${test.attempts} attempts` : ''}`);
  else if (test.attempts > 1) lines.push(`outcome: ${test.outcome} on attempt ${test.attempts} of ${test.attempts}`);
  if (test.expectation !== undefined) lines.push(`expectation: ${test.expectation.isMet ? 'met' : 'NOT MET'}: ${test.expectation.text}`);
  for (const attempt of test.earlierAttempts ?? []) lines.push(...attemptLines(attempt));
  if (Object.keys(test.labels).length > 0) lines.push(`labels: ${Object.entries(test.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  for (const reference of test.references) lines.push(`reference: ${reference}`);
  for (const m of test.migrations) lines.push(migrationLine(m));
  for (const artifact of test.artifacts) lines.push(`[[ATTACHMENT|${artifact.path}]]`);
  return lines.join('\n');
}

function attemptLines(attempt: AttemptResult): string[] {
  const error = attempt.error === null ? '' : `: ${attempt.error.code !== null ? `[${attempt.error.code}] ` : ''}${(attempt.error.causeChain.length > 0 ? attempt.error.causeChain : [attempt.error.message]).join(' / caused by: ')}`;
  return [
    `attempt ${attempt.attempt}: ${attempt.outcome} (${seconds(attempt.durationMs)} s)${error}`,
    ...attempt.migrations.map((m) => `  attempt ${attempt.attempt} ${migrationLine(m)}`),
    ...attempt.artifacts.map((a) => `[[ATTACHMENT|${a.path}]]`),
  ];
}

function migrationLine(m: MigrationResult): string {
  return `${m.id} ${m.direction} ${m.outcome ?? 'not started'}${m.reason !== null ? ` (${m.reason})` : ''}: ${formatMeasurements(m.measurements)}`;
}

function expectationSuite(report: ExpectationReport, id: number, results: RunResults): string[] {
  const lines = [`  <testsuite name="${xmlAttribute(`expectations (${report.file})`)}" id="${id}" package="${xmlAttribute(results.lab.name)}" tests="${report.mismatches.length}" failures="${report.mismatches.length}" errors="0" skipped="0" time="0.000" timestamp="${results.startedAt.replace(/\.\d+Z$/, '')}" hostname="${xmlAttribute(results.pair?.name ?? 'merged')}">`];
  for (const m of report.mismatches) {
    lines.push(`    <testcase name="${xmlAttribute(m.id)}" classname="expectations" time="0.000">`);
    lines.push(`      <failure type="${xmlAttribute(`EXPECTATION_${m.kind.toUpperCase().replace(/-/g, '_')}`)}" message="${xmlAttribute(m.text)}">${xmlText(m.text)}</failure>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>');
  return lines;
}

function formatMeasurements(m: Measurements): string {
  return Object.entries(m).map(([name, value]) => `${name}=${value} ${MEASUREMENT_UNITS[name as keyof Measurements] ?? ''}`.trim()).join(', ');
}

function runProperties(results: RunResults): [string, string][] {
  const properties: [string, string][] = [['hil.runId', results.runId], ['hil.lab', `${results.lab.name} (${results.lab.kind})`], ['hil.harnessVersion', results.harnessVersion], ['hil.flaky', String(results.tests.filter(isFlaky).length)]];
  if (results.sources !== undefined) properties.push(['hil.sources', `${results.sources.commit ?? 'unknown'}${results.sources.isDirty === true ? ' (dirty)' : ''}`]);
  if (results.shard !== null) properties.push(['hil.shard', `${results.shard.index}/${results.shard.count}`]);
  for (const host of results.hosts) {
    if (host.facts === null) continue;
    properties.push([`hil.host.${host.host}.kernel`, host.facts.kernelRelease], [`hil.host.${host.host}.qemu`, host.facts.qemu.version ?? 'unknown']);
  }
  return properties;
}

function testProperties(test: TestResult): [string, string][] {
  const earlier = (test.earlierAttempts ?? []).flatMap((attempt) => attempt.migrations.flatMap((m) => Object.entries(m.measurements)
    .map(([name, value]): [string, string] => [`${test.title} :: attempt ${attempt.attempt} :: ${m.id} ${m.direction} :: ${name}`, String(value)])));
  return [...earlier, ...test.migrations.flatMap((m) => Object.entries(m.measurements).map(([name, value]): [string, string] => [`${test.title} :: ${m.id} ${m.direction} :: ${name}`, String(value)]))];
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
