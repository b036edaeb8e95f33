/**
 * Negative controls for the lab-or-product diagnosis (design.md §7), on the virtual lab's real
 * QEMU: a guest whose device under test (a pci-testdev carrying an option ROM that triple-faults
 * the CPU during POST) resets at every boot. When the same guest boots without the device, the
 * run must say FAIL, not excuse it as a lab ERROR; when it does not boot without the device either
 * (its kernel has no init and no root), the run must say ERROR, not blame the product.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLab } from '../../harness/config/loadLab.js';
import { projectRoot } from '../../harness/projectRoot.js';
import type { TestResult } from '../../harness/report/RunResults.js';
import { readRunResults } from '../faults/FaultVerdict.js';
import { HilChild } from '../faults/HilChild.js';
import { LEASE_WAIT, RUN_DEADLINE_MS } from '../faults/inRunFaults.js';

const LAB_FILE = join(projectRoot(), 'lab.yaml');
const SPEC = 'test/verdicts/specs/boot-diagnosis.spec.ts';
/** What the guest's shell prints when it answers waitForShell (its own output line, not the echoed command). */
const SHELL_ANSWERED = /\nhil-shell-ok\r?\n/;

describe('verdicts: a boot failure is judged by a control boot without the device under test', function () {
  this.timeout(RUN_DEADLINE_MS);
  const lab = loadLab(LAB_FILE);
  let tests: readonly TestResult[] = [];
  let runDir = '';
  let output = '';

  before(async function () {
    const run = new HilChild(['--lab', LAB_FILE, 'run', SPEC, ...LEASE_WAIT]);
    const exit = await run.exit(RUN_DEADLINE_MS);
    output = run.output;
    expect(exit.code, output).to.equal(1);
    tests = readRunResults(lab.reportsDir, run.runId)?.tests ?? [];
    runDir = join(lab.reportsDir, run.runId!);
  });

  const read = (path: string) => readFileSync(join(runDir, path), 'utf8');

  it('the control boots: FAIL, with the diagnosis and both consoles in the result', function () {
    const test = tests.find((t) => t.title.startsWith('the same guest without the device boots'));
    expect(test?.outcome, output).to.equal('FAIL');
    expect(test!.error?.code).to.equal('GUEST_FAILED_WITH_DEVICE');
    expect(test!.error?.causeChain[1]).to.match(/^\[GUEST_RESET_BEFORE_SHELL\]/);
    const [diagnosis, ...more] = test!.diagnosis ?? [];
    expect(more).to.deep.equal([]);
    expect(diagnosis).to.deep.include({ outcome: 'FAIL', phase: 'guest-boot', devicesUnderTest: ['device pci-testdev'] });
    expect(diagnosis!.control).to.deep.include({ host: lab.pairs[0]!.source, hasBooted: true });
    const failedConsole = diagnosis!.artifacts.find((a) => a.endsWith('src.console.log'))!;
    const controlConsole = diagnosis!.control!.artifacts.find((a) => a.endsWith('src_control.console.log'))!;
    for (const artifact of [failedConsole, controlConsole]) expect(test!.artifacts.map((a) => a.path)).to.include(artifact);
    expect(read(failedConsole)).not.to.match(SHELL_ANSWERED);
    expect(read(controlConsole)).to.match(SHELL_ANSWERED);
  });

  it('the control fails too: ERROR, with the control\'s failure in the diagnosis', function () {
    const test = tests.find((t) => t.title.startsWith('the same guest without the device fails to boot too'));
    expect(test?.outcome, output).to.equal('ERROR');
    expect(test!.error?.code).to.equal('GUEST_FAILED_ON_LAB');
    const diagnosis = test!.diagnosis?.[0];
    expect(diagnosis).to.deep.include({ outcome: 'ERROR', phase: 'guest-boot', devicesUnderTest: ['device pci-testdev'] });
    expect(diagnosis!.control?.hasBooted).to.equal(false);
    expect(diagnosis!.control?.detail).to.match(/^\[GUEST_RESET_BEFORE_SHELL\]/);
    const controlConsole = diagnosis!.control!.artifacts.find((a) => a.endsWith('src_control.console.log'))!;
    expect(existsSync(join(runDir, controlConsole))).to.equal(true);
    expect(read(controlConsole)).to.contain('Kernel panic').and.not.to.match(SHELL_ANSWERED);
  });
});
