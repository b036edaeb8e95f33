import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { causeChain } from '../errors.js';
import { computeTrend } from '../report/computeTrend.js';
import { DEFAULT_REGRESSION_OPTIONS, type RegressionOptions } from '../report/findRegressions.js';
import { formatFlaky, formatRegressions, formatTrend } from '../report/formatText.js';
import { isFlaky } from '../report/outcomeRank.js';
import { HistoryStore } from '../report/HistoryStore.js';
import { comparePageName, renderComparePage } from '../report/html/renderComparePage.js';
import { CELL_METRICS, type CellMetric } from '../report/matrixCells.js';
import { mergeShards } from '../report/mergeShards.js';
import { ReportError } from '../report/ReportError.js';
import { latestRunId, loadRunResults, runDirOf } from '../report/runFolders.js';
import { DEFAULT_TREND_RUNS, historyFileOf, writeRunReports } from '../report/writeRunReports.js';
import { ExitCode } from './ExitCode.js';
import { loadLabOption, type CliIo } from './cliSupport.js';

interface ReportOptions {
  readonly baseline?: string;
  readonly threshold: string;
  readonly minDeltaMs: string;
  readonly minSamples: string;
  readonly metric: string;
  readonly check?: boolean;
  readonly compare?: string[];
  readonly merge?: string[];
  readonly out?: string;
  readonly trendRuns: string;
  readonly maxFlaky: string;
}

export function addReportCommand(program: Command, io: CliIo): void {
  const report = program
    .command('report')
    .description('regenerate junit.xml, index.html and the history entry of a run from its results.json; check it for regressions; compare or merge runs')
    .argument('[runId]', 'a run under the lab\'s reportsDir (default: the latest)')
    .option('--baseline <runId>', 'run to check against (default: the latest complete run of the lab before this one)')
    .option('--threshold <percent>', 'a cell regresses when its p95 grew by more than this percentage (at the low end of the 90 % bootstrap interval)', String(DEFAULT_REGRESSION_OPTIONS.thresholdPercent))
    .option('--min-delta-ms <ms>', '...and by more than this many ms', String(DEFAULT_REGRESSION_OPTIONS.minDeltaMs))
    .option('--min-samples <n>', 'migrations a cell needs in each run to be judged at all (fewer: "not enough data")', String(DEFAULT_REGRESSION_OPTIONS.minSamples))
    .option('--metric <names>', `comma-separated metrics whose p95 is checked (${CELL_METRICS.join(', ')})`, DEFAULT_REGRESSION_OPTIONS.metrics.join(','))
    .option('--check', 'exit 1 when the run regressed against its baseline (2 when lab errors left tests unjudged, or more tests were FLAKY than --max-flaky)')
    .option('--max-flaky <n>', 'with --check: more FLAKY tests than this (a lab ERROR, then a pass) exit 2', '0')
    .option('--compare <runs...>', 'write a page comparing run A (reference) with run B, per cell')
    .option('--merge <runs...>', 'combine shard runs (hil run --shard i/n) into one run and report it')
    .option('--out <runId>', 'run id of the merged run (default: <first shard>-merged)')
    .option('--trend-runs <n>', 'runs in the trend section', String(DEFAULT_TREND_RUNS))
    .action((runId: string | undefined, options: ReportOptions) => {
      io.setExitCode(guarded(io, () => reportAction(program, io, runId, options)));
    });
  report
    .command('trend')
    .description('per cell: downtime p50/p95 over the last runs, pass rate, flaky tests (from reports/history.jsonl)')
    .option('--last <n>', 'how many runs', String(DEFAULT_TREND_RUNS))
    .option('--metric <name>', `one of ${CELL_METRICS.join(', ')}`, 'downtimeMs')
    .option('--all-labs', 'include runs of every lab, not only this lab file\'s')
    .option('--json', 'print the trend as JSON')
    .action((options: { last: string; metric: string; allLabs?: boolean; json?: boolean }) => {
      io.setExitCode(guarded(io, () => {
        const lab = loadLabOption(program);
        const history = new HistoryStore(historyFileOf(lab.reportsDir)).read();
        for (const problem of history.problems) io.err(`warning: ${problem}`);
        const trend = computeTrend(history.entries, {
          lastRuns: positive(options.last, '--last'), metric: metric(options.metric), ...(options.allLabs === true ? {} : { lab: lab.name }),
        });
        if (options.json === true) io.out(JSON.stringify(trend, null, 2));
        else formatTrend(trend).forEach((line) => io.out(line));
        return ExitCode.ok;
      }));
    });
}

function guarded(io: CliIo, action: () => number): number {
  try {
    return action();
  } catch (error) {
    io.err(`hil report: ${causeChain(error).join('\n  caused by: ')}`);
    return error instanceof ReportError && error.code === 'REPORT_USAGE' ? ExitCode.usage : ExitCode.labFailure;
  }
}

function reportAction(program: Command, io: CliIo, runIdArgument: string | undefined, options: ReportOptions): number {
  const lab = loadLabOption(program);
  const regression: RegressionOptions = {
    thresholdPercent: nonNegative(options.threshold, '--threshold'),
    minDeltaMs: nonNegative(options.minDeltaMs, '--min-delta-ms'),
    minSamples: positive(options.minSamples, '--min-samples'),
    metrics: options.metric.split(',').map((m) => metric(m.trim())),
  };
  if (options.compare !== undefined) {
    if (options.compare.length !== 2) throw usage(`--compare takes two run ids (A, the reference, then B), got ${options.compare.length}`);
    const [a, b] = options.compare as [string, string];
    const page = renderComparePage({
      a: loadRunResults(runDirOf(lab.reportsDir, a)), b: loadRunResults(runDirOf(lab.reportsDir, b)),
      linkA: `${a}/`, linkB: `${b}/`, regression,
    });
    const file = join(lab.reportsDir, comparePageName(a, b));
    writeFileSync(file, page, { mode: 0o644 });
    io.out(`comparison: ${file}`);
    return ExitCode.ok;
  }
  let runId = runIdArgument ?? (options.merge === undefined ? latestRunId(lab.reportsDir) : undefined);
  if (options.merge !== undefined) {
    const shards = options.merge.map((id) => ({ runDir: runDirOf(lab.reportsDir, id), results: loadRunResults(runDirOf(lab.reportsDir, id)) }));
    runId = options.out ?? `${options.merge[0]}-merged`;
    const runDir = runDirOf(lab.reportsDir, runId);
    if (existsSync(join(runDir, 'results.json')) && loadRunResults(runDir).mergedFrom === undefined) {
      throw usage(`${runDir} holds a run that is not a merge; choose another --out`);
    }
    mkdirSync(runDir, { recursive: true, mode: 0o755 });
    const merged = mergeShards(shards, runId, runDir);
    writeFileSync(join(runDir, 'results.json'), JSON.stringify(merged, null, 2), { mode: 0o644 });
    io.out(`merged ${options.merge.length} run(s) into ${runId}: ${merged.tests.length} tests${merged.isComplete ? '' : ' (incomplete: a shard is missing or was cut short)'}`);
  }
  const runDir = runDirOf(lab.reportsDir, runId!);
  const results = loadRunResults(runDir);
  const written = writeRunReports(runDir, results, {
    reportsDir: lab.reportsDir, regression, trendRuns: positive(options.trendRuns, '--trend-runs'),
    ...(options.baseline !== undefined ? { baselineRunId: options.baseline } : {}),
  });
  io.out(`junit:   ${written.junitFile}`);
  io.out(`html:    ${written.htmlFile}`);
  io.out(`history: ${written.historyFile}`);
  const flaky = results.tests.filter(isFlaky);
  const maxFlaky = nonNegative(options.maxFlaky, '--max-flaky');
  formatFlaky(flaky).forEach((line) => io.out(line));
  const isFlakyOverLimit = options.check === true && flaky.length > maxFlaky;
  if (isFlakyOverLimit) io.out(`${flaky.length} FLAKY test(s), more than --max-flaky ${maxFlaky}`);
  if (written.regressions === null) {
    io.out(written.noBaselineReason);
    return isFlakyOverLimit ? ExitCode.labFailure : ExitCode.ok;
  }
  formatRegressions(written.regressions).forEach((line) => io.out(line));
  if (options.check !== true) return ExitCode.ok;
  if (written.regressions.regressionCount > 0) return ExitCode.productFailure;
  if (isFlakyOverLimit) return ExitCode.labFailure;
  // Nothing got worse among what could be judged; a lab error left the rest unjudged.
  return written.regressions.unjudgedCount > 0 ? ExitCode.labFailure : ExitCode.ok;
}

function usage(message: string): ReportError {
  return new ReportError('REPORT_USAGE', message);
}

function metric(name: string): CellMetric {
  if (!(CELL_METRICS as readonly string[]).includes(name)) throw usage(`unknown metric "${name}"; one of ${CELL_METRICS.join(', ')}`);
  return name as CellMetric;
}

function nonNegative(text: string, option: string): number {
  const value = Number(text);
  if (!(Number.isFinite(value) && value >= 0)) throw usage(`${option} must be a number ≥ 0, got "${text}"`);
  return value;
}

function positive(text: string, option: string): number {
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= 1)) throw usage(`${option} must be a whole number ≥ 1, got "${text}"`);
  return value;
}
