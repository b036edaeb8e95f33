import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../harness/projectRoot.js';

/** One import that breaks a rule of .dependency-cruiser.cjs. */
export interface LayerViolation {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
  /** For a cycle: the modules around it, starting after `from`. */
  readonly cycle?: readonly string[];
}

interface CruiseJson {
  readonly summary: {
    readonly violations: ReadonlyArray<{ from: string; to: string; rule: { name: string }; cycle?: ReadonlyArray<{ name: string }> }>;
    readonly totalCruised: number;
  };
}

/** What `cruiseLayers` read: the violations and how many modules it looked at. */
export interface LayerCruise {
  readonly violations: readonly LayerViolation[];
  readonly modulesCruised: number;
}

const run = promisify(execFile);

/**
 * Runs dependency-cruiser with the project's layer rules over `paths`, from `cwd` (the rules'
 * paths are relative to it: the project root, or a fixture tree shaped like it). The CLI is used
 * rather than the API so the check is exactly what `npm run lint:layers` runs.
 */
export async function cruiseLayers(cwd: string, paths: readonly string[]): Promise<LayerCruise> {
  const root = projectRoot();
  const cli = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const args = [cli, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json', ...paths];
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    // depcruise exits with the number of errors found; its JSON is on stdout all the same.
    const failed = error as { stdout?: string; stderr?: string };
    if (typeof failed.stdout !== 'string' || failed.stdout.trim() === '') {
      throw new Error(`dependency-cruiser failed in ${cwd} on ${paths.join(' ')} without a report: ${failed.stderr ?? String(error)}`);
    }
    stdout = failed.stdout;
  }
  const json = JSON.parse(stdout) as CruiseJson;
  return {
    modulesCruised: json.summary.totalCruised,
    violations: json.summary.violations.map((violation) => ({
      rule: violation.rule.name,
      from: violation.from,
      to: violation.to,
      ...(violation.cycle === undefined ? {} : { cycle: violation.cycle.map((step) => step.name) }),
    })),
  };
}

/** One line per violation, as a failure message lists them. */
export function describeViolation(violation: LayerViolation): string {
  const around = violation.cycle === undefined ? '' : ` (cycle: ${[violation.from, ...violation.cycle].join(' -> ')})`;
  return `${violation.rule}: ${violation.from} -> ${violation.to}${around}`;
}
