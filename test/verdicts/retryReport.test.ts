import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../harness/cli/ExitCode.js';
import { main } from '../../harness/cli/main.js';
import { projectRoot } from '../../harness/projectRoot.js';
import { syntheticRun, writeSyntheticRun } from '../support/syntheticRun.js';

/** FLAKY in the regression check: `hil report --check` names it and fails past --max-flaky. */
describe('verdicts: FLAKY in hil report --check', function () {
  let dir: string;
  let labFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'hil-flaky-report-'));
    labFile = join(dir, 'lab.yaml');
    const lab = readFileSync(join(projectRoot(), 'lab.yaml'), 'utf8');
    writeFileSync(labFile, lab.replace(/^ {2}reportsDir: .*$/m, `  reportsDir: ${join(dir, 'reports')}`));
    // A baseline where the bug test was FIXED at once, then a run where it was FIXED only on a retry.
    writeSyntheticRun(join(dir, 'reports'), syntheticRun('20260101-000000-aaaa', '2026-01-01T00:00:00.000Z', [{ title: 'bug', outcome: 'FIXED' }]));
    const flaky = syntheticRun('20260102-000000-bbbb', '2026-01-02T00:00:00.000Z', [{ title: 'bug', outcome: 'FIXED', attempts: 2 }]);
    flaky.tests[0]!.earlierAttempts = [{ attempt: 1, outcome: 'ERROR', durationMs: 14000, error: { message: 'reset', causeChain: ['reset'], code: 'GUEST_RESET_BEFORE_SHELL' }, migrations: [], artifacts: [] }];
    writeSyntheticRun(join(dir, 'reports'), flaky);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const report = async (...args: string[]): Promise<{ code: number; out: string }> => {
    const lines: string[] = [];
    const code = await main(['node', 'hil', '--lab', labFile, 'report', '20260102-000000-bbbb', '--baseline', '20260101-000000-aaaa', ...args], { out: (t) => lines.push(t), err: (t) => lines.push(t), setExitCode: () => undefined });
    return { code, out: lines.join('\n') };
  };

  it('a verdict reached only on a retry is listed as FLAKY with its earlier attempt, and fails --check (exit 2) unless --max-flaky allows it', async function () {
    const checked = await report('--check');
    expect(checked.out).to.include('FLAKY synthetic suite bug: FIXED on attempt 2 (attempt 1 ERROR [GUEST_RESET_BEFORE_SHELL])');
    expect(checked.code).to.equal(ExitCode.labFailure);
    expect((await report('--check', '--max-flaky', '1')).code).to.equal(ExitCode.ok);
  });
});
