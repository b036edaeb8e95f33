import { Ajv } from 'ajv';
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cellLabels, syntheticRun, writeSyntheticRun } from '../../test/support/syntheticRun.js';
import { ReportError } from './ReportError.js';
import { resultsSchema, resultsSchemaProblems } from './resultsSchema.js';
import { loadRunResults } from './runFolders.js';
import type { Outcome } from './RunResults.js';

const ALL_OUTCOMES: Outcome[] = ['PASS', 'FAIL', 'ERROR', 'SKIP', 'FLAKY', 'REPRODUCED', 'FIXED', 'UNEXPECTED'];

describe('schema/results.schema.json', () => {
  it('is a valid draft-07 schema that compiles under ajv strict mode', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    expect(ajv.validateSchema(resultsSchema), JSON.stringify(ajv.errors)).to.equal(true);
    expect(() => ajv.compile(resultsSchema)).to.not.throw();
  });

  it('accepts a synthetic run with every outcome, measurements, shard and merge data', () => {
    const run = syntheticRun('20260101-000000-aaaa', '2026-01-01T00:00:00.000Z', ALL_OUTCOMES.map((outcome) => ({
      title: outcome, outcome, labels: cellLabels('virtio-net-pci', 'none'), downtimesMs: [10, 20], ...(outcome === 'FAIL' || outcome === 'ERROR' ? { error: 'boom' } : {}),
    })), { shard: { index: 1, count: 2 } });
    expect(resultsSchemaProblems(run)).to.deep.equal([]);
    const merged = { ...run, shard: null, mergedFrom: [{ runId: run.runId, shard: { index: 1, count: 2 }, pair: run.pair, startedAt: run.startedAt, endedAt: null, isComplete: false }] };
    expect(resultsSchemaProblems(merged)).to.deep.equal([]);
  });

  it('names each mistake with its place: unknown outcome, missing key, unknown key, SKIP without reason, bad time', () => {
    const run = syntheticRun('20260101-000000-aaaa', '2026-01-01T00:00:00.000Z', [{ title: 'a', outcome: 'PASS' }, { title: 'b', outcome: 'SKIP' }]);
    const broken = JSON.parse(JSON.stringify(run)) as Record<string, unknown> & { tests: Record<string, unknown>[] };
    broken.tests[0]!['outcome'] = 'GREEN';
    delete broken.tests[0]!['durationMs'];
    broken.tests[0]!['colour'] = 'red';
    broken.tests[1]!['skipReason'] = null;
    broken['startedAt'] = 'yesterday';
    const problems = resultsSchemaProblems(broken);
    expect(problems).to.include('/tests/0/outcome must be one of PASS, FAIL, ERROR, SKIP, FLAKY, REPRODUCED, FIXED, UNEXPECTED');
    expect(problems).to.include('/tests/0 is missing "durationMs"');
    expect(problems).to.include('/tests/0 has unknown key "colour"');
    expect(problems.some((p) => p.startsWith('/tests/1/skipReason must be string'))).to.equal(true, problems.join('\n'));
    expect(problems.some((p) => p.startsWith('/startedAt must match pattern'))).to.equal(true, problems.join('\n'));
  });

  it('loadRunResults refuses an invalid or unreadable results.json with the file and the problems', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-schema-'));
    try {
      const runDir = writeSyntheticRun(dir, syntheticRun('20260101-000000-aaaa', '2026-01-01T00:00:00.000Z', [{ title: 'a', outcome: 'PASS' }]));
      expect(loadRunResults(runDir).tests).to.have.length(1);
      writeFileSync(join(runDir, 'results.json'), '{"formatVersion": 1, "runId": "x"}');
      expect(() => loadRunResults(runDir)).to.throw(ReportError, /results\.json does not match schema\/results\.schema\.json:\n {2}\(top\) is missing "lab"/);
      writeFileSync(join(runDir, 'results.json'), '{"formatVersion": 1,');
      expect(() => loadRunResults(runDir)).to.throw(ReportError, /results\.json is not JSON/);
      expect(() => loadRunResults(join(dir, 'nope'))).to.throw(ReportError, /No results\.json in/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
