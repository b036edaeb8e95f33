import { causeChain } from '../errors.js';
import { formatRegressions } from './formatText.js';
import type { RunResults } from './RunResults.js';
import { writeRunReports } from './writeRunReports.js';

/**
 * The end of `hil run`: junit.xml, index.html and the history entry from the run's results, with
 * the paths and any regression against the previous run printed. False when they could not be
 * written (the run's own verdict stands; CI then lacks its JUnit, which the exit code must say).
 */
export function publishRunReports(runDir: string, results: RunResults, reportsDir: string, print: (line: string) => void): boolean {
  try {
    const written = writeRunReports(runDir, results, { reportsDir });
    print(`junit:   ${written.junitFile}`);
    print(`report:  ${written.htmlFile}`);
    if (written.regressions !== null && written.regressions.regressionCount > 0) formatRegressions(written.regressions).forEach(print);
    return true;
  } catch (error) {
    print(`hil run: writing the reports of ${results.runId} failed: ${causeChain(error).join('\n  caused by: ')}`);
    print(`  results.json is kept; regenerate with "hil report ${results.runId}"`);
    return false;
  }
}
