import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReportError } from './ReportError.js';
import { resultsSchemaProblems } from './resultsSchema.js';
import type { RunResults } from './RunResults.js';

/** reports/<runId>/ */
export function runDirOf(reportsDir: string, runId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) throw new ReportError('REPORT_BAD_RUN_ID', `"${runId}" is not a run id (a folder name under ${reportsDir}, like 20261124-140953-906a)`);
  return join(reportsDir, runId);
}

/** Run ids under reportsDir that have a results.json, oldest first (ids start with a UTC stamp). */
export function listRunIds(reportsDir: string): string[] {
  if (!existsSync(reportsDir)) return [];
  return readdirSync(reportsDir)
    .filter((name) => existsSync(join(reportsDir, name, 'results.json')) && statSync(join(reportsDir, name)).isDirectory())
    .sort();
}

export function latestRunId(reportsDir: string): string {
  const ids = listRunIds(reportsDir);
  const latest = ids[ids.length - 1];
  if (latest === undefined) throw new ReportError('REPORT_NO_RUNS', `No runs under ${reportsDir} (no <runId>/results.json). Run "hil run" first.`);
  return latest;
}

/** Reads and validates reports/<runId>/results.json against schema/results.schema.json. */
export function loadRunResults(runDir: string): RunResults {
  const file = join(runDir, 'results.json');
  if (!existsSync(file)) throw new ReportError('REPORT_NO_RESULTS', `No results.json in ${runDir}. Is the run id right? "hil report" lists nothing it cannot find; see ${join(runDir, '..')}`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ReportError('REPORT_RESULTS_UNREADABLE', `${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const problems = resultsSchemaProblems(data);
  if (problems.length > 0) {
    throw new ReportError('REPORT_RESULTS_INVALID', `${file} does not match schema/results.schema.json:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`, { data: { problems } });
  }
  return data as RunResults;
}

/** Writes reports/<runId>/results.json whole or not at all (a reader never sees half a file). */
export function saveRunResults(runDir: string, results: RunResults): void {
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  const file = join(runDir, 'results.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(results, null, 2), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
