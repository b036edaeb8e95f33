import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import Mocha from 'mocha';
import { readEnvironment } from '../config/environment.js';
import { loadExpectations, type ExpectationFile } from '../config/loadExpectations.js';
import { withQemuBuild, withViommuAddressWidth } from '../config/withQemuBuild.js';
import { bugRunSelection } from '../bugs/bugCatalogue.js';
import { causeChain, InfrastructureError } from '../errors.js';
import { MEASUREMENT_UNITS } from '../migration/computeMeasurements.js';
import { createHilMocha } from '../mocha/createHilMocha.js';
import { parseShard, selectShard } from '../mocha/selectShard.js';
import { collectTestIds, specFileKey } from '../mocha/testId.js';
import { projectRoot } from '../projectRoot.js';
import { checkExpectations, type RunSelection } from '../report/checkExpectations.js';
import { saveRunResults } from '../report/runFolders.js';
import { publishRunReports } from '../report/publishRunReports.js';
import { RESULTS_FORMAT_VERSION, type RunResults } from '../report/RunResults.js';
import { LabSession } from '../session/LabSession.js';
import { checkReportsWritable } from './checkReportsWritable.js';
import { ExitCode } from './ExitCode.js';
import { RunInterrupt } from './RunInterrupt.js';
import { loadLabOption, type CliIo } from './cliSupport.js';
import { createRunProgress } from './progress/createRunProgress.js';
import { runExitCode } from './runExitCode.js';
import { sourceRevision } from './sourceRevision.js';
import { checkBuildIsCurrent } from './staleBuild.js';
import { buildProgress } from './qemuCommands.js';
import { prepareRunQemuBuilds } from '../qemu/builds/ensureQemuBuilds.js';

interface RunOptions {
  readonly grep?: string;
  readonly bug?: string;
  readonly pair?: string;
  readonly retries?: string;
  readonly shard?: string;
  readonly wait?: string;
  readonly qemu?: string;
  readonly expect?: string;
  readonly maxFlaky: string;
  readonly viommuAwBits?: string;
}

export function addRunCommand(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('run suites on a host pair of the lab and write reports/<runId>/results.json')
    .argument('[suites...]', 'suite files or folders (under suites/)', ['suites'])
    .option('--grep <text>', 'only tests whose full title contains this')
    .option('--bug <id>', 'run one bug reproduction of harness/bugs (verdict REPRODUCED, FIXED or UNEXPECTED from the QEMU under test)')
    .option('--pair <name>', 'the host pair (default: the first in the lab file)')
    .option('--wait <seconds>', 'wait this long for a pair another run holds (default: fail at once naming the holder)', '0')
    .option('--retries <n>', 'run a test whose attempt was a lab ERROR up to n more times (never a FAIL or a verdict); every attempt is kept, and a pass after an ERROR is FLAKY', '0')
    .option('--max-flaky <n>', 'fail the run (exit 2) when more than n tests are FLAKY', '0')
    .option('--expect <file>', 'hold the run against an expectation file (expect/*.yaml): exit 4 on any difference, a missing test or a known failure that passed')
    .option('--qemu <build>', 'run every host with this QEMU build of the lab file\'s qemu: section (default: each host\'s own)')
    .option('--viommu-aw-bits <bits>', 'intel-iommu aw-bits (39 or 48) for every vIOMMU a suite asks for without setting it (a control: 39 keeps a whole-space unmap under type1\'s bitmap limit)')
    .option('--shard <i/n>', 'run only the i-th of n deterministic shares of the tests (merge them with "hil report --merge")')
    .action(async (suites: string[], options: RunOptions) => {
      io.setExitCode(await runSuites(program, io, suites, options));
    });
}

/**
 * Compiled spec files for the suite paths given (sources under suites/, built under dist/suites/).
 * Found from the sources where they exist, so a spec deleted since the last build does not run.
 */
export function specFiles(paths: readonly string[]): string[] {
  const root = projectRoot();
  const files: string[] = [];
  const walk = (path: string, isSource: boolean): void => {
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path).sort()) walk(join(path, entry), isSource);
    else if (isSource && path.endsWith('.spec.ts')) files.push(join(root, 'dist', relative(root, path)).replace(/\.ts$/, '.js'));
    else if (!isSource && path.endsWith('.spec.js')) files.push(path);
  };
  for (const given of paths) {
    const source = resolve(given);
    const built = join(root, 'dist', relative(root, source).replace(/\.ts$/, '.js'));
    if (existsSync(source)) walk(source, true);
    else if (existsSync(built)) walk(built, false);
    else throw new InfrastructureError('RUN_NO_SUITE', `No suite at ${given} (looked for ${source} and ${built})`);
  }
  if (files.length === 0) throw new InfrastructureError('RUN_NO_SUITE', `No *.spec.ts suites under ${paths.join(', ')}`);
  return files;
}

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}

async function runSuites(program: Command, io: CliIo, suites: readonly string[], options: RunOptions): Promise<number> {
  // Before anything else: a verdict must come from the code its author wrote, not from an old build.
  checkBuildIsCurrent(projectRoot());
  const maxFlaky = wholeNumber(options.maxFlaky, '--max-flaky');
  const retries = wholeNumber(options.retries ?? '0', '--retries');
  const expectations: ExpectationFile | null = options.expect === undefined ? null : loadExpectations(options.expect);
  const loaded = options.qemu === undefined ? loadLabOption(program) : withQemuBuild(loadLabOption(program), options.qemu);
  const lab = options.viommuAwBits === undefined ? loaded : withViommuAddressWidth(loaded, options.viommuAwBits);
  // --bug <id>: the bug's own suite file, and only its test (harness/bugs/bugCatalogue.ts).
  const bug = options.bug === undefined ? null : bugRunSelection(options.bug);
  const grep = bug?.grep ?? options.grep;
  const files = specFiles(bug?.suites ?? suites);
  const shard = options.shard === undefined ? null : parseShard(options.shard);
  const environment = readEnvironment();
  const progress = createRunProgress(environment, (line) => io.out(line));
  // Say so before touching any host: a run whose results cannot be written is not worth starting.
  checkReportsWritable(lab);
  // Before the preflight, which checks that each host runs the build its identity describes.
  await prepareRunQemuBuilds(lab, environment, (build, on) => buildProgress(io, build, on), (line) => io.out(line));
  const runId = newRunId();
  const runDir = join(lab.reportsDir, runId);
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  io.out(`Run ${runId} on lab "${lab.name}": ${files.length} suite file(s); reports in ${runDir}`);
  const session = await LabSession.open({ lab, environment, runId, runDir, leaseWaitMs: Number(options.wait ?? '0') * 1000, onWarning: (line) => io.err(`warning: ${line}`), ...(options.pair !== undefined ? { pairName: options.pair } : {}) });
  try {
    const results: RunResults = {
      formatVersion: RESULTS_FORMAT_VERSION, runId,
      lab: { name: lab.name, kind: lab.kind, file: lab.file },
      pair: { name: session.pair.name, source: session.pair.source, destination: session.pair.destination },
      harnessVersion: harnessVersion(), commandLine: process.argv.slice(1), startedAt: new Date().toISOString(), endedAt: null,
      isComplete: false, hosts: session.preflight.hosts, shard, measurementUnits: MEASUREMENT_UNITS, sources: sourceRevision(projectRoot()), tests: [],
    };
    if (results.sources?.isDirty === true) io.err(`warning: harness/ or suites/ differ from commit ${results.sources.commit}: ${results.sources.dirtyPaths.slice(0, 5).join(', ')}${results.sources.dirtyPaths.length > 5 ? ', ...' : ''} (recorded in results.json)`);
    session.migrationObserver = progress;
    const interrupt = new RunInterrupt((line) => io.err(line), (code) => process.exit(code));
    interrupt.install();
    const distRoot = join(projectRoot(), 'dist');
    const hilMocha = createHilMocha({
      results, runDir, distRoot, print: (line: string) => progress.print(line), session, interrupt,
      isInterrupted: () => interrupt.isInterrupted, labFailureSince: (sinceMs: number) => describeSshDrops(session, sinceMs),
      timeoutMs: lab.defaults.timeouts.migrationMs * 10, retries, ...(grep !== undefined ? { grep } : {}),
    });
    const mocha = hilMocha.mocha;
    for (const file of files) mocha.addFile(file);
    await mocha.loadFilesAsync();
    const declared = collectTestIds(mocha.suite, distRoot);
    if (shard !== null) {
      const share = selectShard(mocha.suite, shard, grep);
      io.out(`Shard ${shard.index}/${shard.count}: ${share.kept} of ${share.total} tests`);
    }
    const selection = runSelection(mocha.suite, declared, files, distRoot, grep);
    await hilMocha.run((runner) => {
      interrupt.onAbort(() => runner.abort());
      runner.on(Mocha.Runner.constants.EVENT_TEST_BEGIN, (test: Mocha.Test) => progress.testStarted(test.title));
      runner.on(Mocha.Runner.constants.EVENT_TEST_END, () => progress.testEnded());
    });
    progress.close();
    interrupt.uninstall();
    if (interrupt.isInterrupted) io.err(`Run ${runId} was interrupted: its report is partial (isComplete: false).`);
    if (expectations !== null) {
      results.expectations = checkExpectations(expectations, results.tests, selection);
      const e = results.expectations;
      io.out(`expectations ${e.file}: ${e.matched} met, ${e.mismatches.length} different${e.notInRun.length > 0 ? `, ${e.notInRun.length} not in this run` : ''}`);
      for (const m of e.mismatches) io.out(`  ${m.kind === 'missing' ? 'MISSING' : 'DIFFERENT'} ${m.text}`);
      saveRunResults(runDir, results);
    }
    const isPublished = publishRunReports(runDir, results, lab.reportsDir, (line) => io.out(line));
    const exit = runExitCode(results, { isPublished, isInterrupted: interrupt.isInterrupted, maxFlaky });
    io.out(`exit ${exit.code}${exit.reasons.length > 0 ? `: ${exit.reasons.join('; ')}` : ': every test judged as expected'}`);
    return exit.code;
  } catch (error) {
    io.err(`hil run: ${causeChain(error).join('\n  caused by: ')}`);
    return ExitCode.labFailure;
  } finally {
    progress.close();
    await session.close();
  }
}

/** The spec files and test ids loaded, and which tests --grep and --shard left to run. */
function runSelection(root: Mocha.Suite, declared: ReadonlyMap<string, Mocha.Test>, files: readonly string[], distRoot: string, grep: string | undefined): RunSelection {
  const kept = new Set<Mocha.Test>();
  const walk = (suite: Mocha.Suite): void => {
    for (const test of suite.tests) if (grep === undefined || test.fullTitle().includes(grep)) kept.add(test);
    suite.suites.forEach(walk);
  };
  walk(root);
  return {
    specFiles: new Set(files.map((file) => specFileKey(file, distRoot))),
    declaredIds: new Set(declared.keys()),
    selectedIds: new Set([...declared].filter(([, test]) => kept.has(test)).map(([id]) => id)),
  };
}

function wholeNumber(text: string, option: string): number {
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= 0)) throw new InfrastructureError('RUN_BAD_OPTION', `${option} must be a whole number ≥ 0, got "${text}"`);
  return value;
}

/** "SSH connection to host-a dropped at <time> (...)", for the drops since then; null when none. */
function describeSshDrops(session: LabSession, sinceMs: number): string | null {
  const drops = session.sshDrops.filter((drop) => drop.atMs >= sinceMs);
  if (drops.length === 0) return null;
  return drops.map((drop) => `${drop.host}: ${drop.message} at ${new Date(drop.atMs).toISOString()}`).join('; ');
}

function harnessVersion(): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
