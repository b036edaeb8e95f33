import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeTrend, type Trend } from './computeTrend.js';
import { defaultBaseline, DEFAULT_REGRESSION_OPTIONS, findRegressions, type RegressionOptions, type RegressionReport } from './findRegressions.js';
import { historyEntryOf, type HistoryEntry } from './HistoryEntry.js';
import { HistoryStore } from './HistoryStore.js';
import { renderRunPage } from './html/renderRunPage.js';
import { renderJunitXml } from './junitXml.js';
import { ReportError } from './ReportError.js';
import { resultsSchemaProblems } from './resultsSchema.js';
import { loadRunResults, runDirOf } from './runFolders.js';
import type { RunResults } from './RunResults.js';

export const DEFAULT_TREND_RUNS = 10;

export interface ReportOptions {
  readonly reportsDir: string;
  /** Compare with this run; default: the latest complete run of the same lab before this one. */
  readonly baselineRunId?: string;
  readonly regression?: RegressionOptions;
  readonly trendRuns?: number;
}

export interface WrittenReports {
  readonly junitFile: string;
  readonly htmlFile: string;
  readonly historyFile: string;
  readonly regressions: RegressionReport | null;
  readonly noBaselineReason: string;
  readonly trend: Trend;
}

export function historyFileOf(reportsDir: string): string {
  return join(reportsDir, 'history.jsonl');
}

/**
 * Every output of a run from its results.json (the run's end, and `hil report <runId>`): the run
 * is (re)recorded in the history, checked against its baseline, and junit.xml and index.html are
 * written next to results.json.
 */
export function writeRunReports(runDir: string, results: RunResults, options: ReportOptions): WrittenReports {
  const problems = resultsSchemaProblems(results);
  if (problems.length > 0) throw new ReportError('REPORT_RESULTS_INVALID', `results of ${results.runId} do not match schema/results.schema.json:\n  ${problems.slice(0, 20).join('\n  ')}`);
  const store = new HistoryStore(historyFileOf(options.reportsDir));
  const current = historyEntryOf(results);
  store.append(current);
  const history = store.read();
  const baseline = resolveBaseline(options, history.entries, current);
  const regressions = baseline.entry === null ? null : findRegressions(current, baseline.entry, options.regression ?? DEFAULT_REGRESSION_OPTIONS);
  const trend = computeTrend(history.entries, {
    lastRuns: options.trendRuns ?? DEFAULT_TREND_RUNS, metric: 'downtimeMs', lab: results.lab.name, untilRunId: results.runId,
  });
  const junitFile = join(runDir, 'junit.xml');
  const htmlFile = join(runDir, 'index.html');
  writeAtomically(junitFile, renderJunitXml(results));
  writeAtomically(htmlFile, renderRunPage({ results, runDir, trend, historyProblems: history.problems, regressions, noBaselineReason: baseline.why }));
  return { junitFile, htmlFile, historyFile: store.file, regressions, noBaselineReason: baseline.why, trend };
}

/** The baseline's history entry: from the history, or from its results.json when it is not there. */
export function resolveBaseline(options: Pick<ReportOptions, 'reportsDir' | 'baselineRunId'>, entries: readonly HistoryEntry[], current: HistoryEntry): { entry: HistoryEntry | null; why: string } {
  if (options.baselineRunId !== undefined) {
    const known = entries.find((e) => e.runId === options.baselineRunId);
    if (known !== undefined) return { entry: known, why: '' };
    const dir = runDirOf(options.reportsDir, options.baselineRunId);
    if (!existsSync(dir)) throw new ReportError('REPORT_NO_BASELINE', `Baseline run ${options.baselineRunId} is neither in ${historyFileOf(options.reportsDir)} nor a folder under ${options.reportsDir}`);
    return { entry: historyEntryOf(loadRunResults(dir)), why: '' };
  }
  const entry = defaultBaseline(entries, current);
  const builds = (current.qemuBuilds ?? current.qemuVersions).join(', ');
  return { entry, why: entry === null ? `No earlier complete run of lab "${current.lab.name}" on the same QEMU (${builds}) in the history to compare with (give one with --baseline).` : '' };
}

function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}
