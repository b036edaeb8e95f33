import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import Mocha from 'mocha';
import { readEnvironment } from '../config/environment.js';
import { withQemuBuild, withViommuAddressWidth } from '../config/withQemuBuild.js';
import { bugRunSelection } from '../bugs/bugCatalogue.js';
import { causeChain, InfrastructureError } from '../errors.js';
import { MEASUREMENT_UNITS } from '../measure/computeMeasurements.js';
import { HilReporter } from '../mocha/HilReporter.js';
import { parseShard, selectShard } from '../mocha/selectShard.js';
import { rootHooks } from '../mocha/rootHooks.js';
import { projectRoot } from '../projectRoot.js';
import { publishRunReports } from '../report/publishRunReports.js';
import { RESULTS_FORMAT_VERSION, type RunResults } from '../report/RunResults.js';
import { LabSession } from '../session/LabSession.js';
import { checkReportsWritable } from './checkReportsWritable.js';
import { ExitCode } from './ExitCode.js';
import { RunInterrupt } from './RunInterrupt.js';
import { loadLabOption, type CliIo } from './cliSupport.js';
import { createRunProgress } from './progress/createRunProgress.js';
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
    .option('--retries <n>', 'retry a failed test up to n times; a pass after a failure is FLAKY', '0')
    .option('--qemu <build>', 'run every host with this QEMU build of the lab file\'s qemu: section (default: each host\'s own)')
    .option('--viommu-aw-bits <bits>', 'intel-iommu aw-bits (39 or 48) for every vIOMMU a suite asks for without setting it (a control: 39 keeps a whole-space unmap under type1\'s bitmap limit)')
    .option('--shard <i/n>', 'run only the i-th of n deterministic shares of the tests (merge them with "hil report --merge")')
    .action(async (suites: string[], options: RunOptions) => {
      io.setExitCode(await runSuites(program, io, suites, options));
    });
}

/** Compiled spec files for the suite paths given (sources under suites/, built under dist/suites/). */
export function specFiles(paths: readonly string[]): string[] {
  const root = projectRoot();
  const files: string[] = [];
  const walk = (path: string): void => {
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path).sort()) walk(join(path, entry));
    else if (path.endsWith('.spec.js')) files.push(path);
  };
  for (const given of paths) {
    const source = relative(root, resolve(given)).replace(/\.ts$/, '.js');
    const built = join(root, 'dist', source);
    if (!existsSync(built)) throw new InfrastructureError('RUN_NO_SUITE', `No suite at ${given} (looked for ${built}; is the project built? run "npm run build")`);
    walk(built);
  }
  if (files.length === 0) throw new InfrastructureError('RUN_NO_SUITE', `No *.spec.ts suites under ${paths.join(', ')}`);
  return files;
}

function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}

async function runSuites(program: Command, io: CliIo, suites: readonly string[], options: RunOptions): Promise<number> {
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
      isComplete: false, hosts: session.preflight.hosts, shard, measurementUnits: MEASUREMENT_UNITS, tests: [],
    };
    session.migrationObserver = progress;
    const interrupt = new RunInterrupt((line) => io.err(line), (code) => process.exit(code));
    interrupt.install();
    const mocha = new Mocha({
      reporter: HilReporter as unknown as string,
      reporterOptions: { results, runDir, print: (line: string) => progress.print(line), isInterrupted: () => interrupt.isInterrupted, labFailureSince: (sinceMs: number) => describeSshDrops(session, sinceMs) },
      rootHooks: rootHooks(session, interrupt),
      timeout: lab.defaults.timeouts.migrationMs * 10,
      retries: Number(options.retries ?? '0'),
      ...(grep !== undefined ? { grep } : {}),
    });
    for (const file of files) mocha.addFile(file);
    await mocha.loadFilesAsync();
    if (shard !== null) {
      const share = selectShard(mocha.suite, shard, grep);
      io.out(`Shard ${shard.index}/${shard.count}: ${share.kept} of ${share.total} tests`);
    }
    await new Promise<void>((done) => {
      const runner = mocha.run(() => done());
      interrupt.onAbort(() => runner.abort());
      runner.on(Mocha.Runner.constants.EVENT_TEST_BEGIN, (test: Mocha.Test) => progress.testStarted(test.title));
      runner.on(Mocha.Runner.constants.EVENT_TEST_END, () => progress.testEnded());
    });
    progress.close();
    interrupt.uninstall();
    if (interrupt.isInterrupted) io.err(`Run ${runId} was interrupted: its report is partial (isComplete: false).`);
    const isPublished = publishRunReports(runDir, results, lab.reportsDir, (line) => io.out(line));
    const outcomes = new Set(results.tests.map((t) => t.outcome));
    if (outcomes.has('FAIL') || outcomes.has('UNEXPECTED')) return ExitCode.productFailure;
    if (outcomes.has('ERROR') || !isPublished || interrupt.isInterrupted) return ExitCode.labFailure;
    return ExitCode.ok;
  } catch (error) {
    io.err(`hil run: ${causeChain(error).join('\n  caused by: ')}`);
    return ExitCode.labFailure;
  } finally {
    progress.close();
    await session.close();
  }
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
