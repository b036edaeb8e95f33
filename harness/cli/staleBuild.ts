import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InfrastructureError } from '../errors.js';

/** The source folders whose compiled code a run executes. */
export const RUN_SOURCE_FOLDERS = ['harness', 'suites'] as const;

export interface StaleSource {
  /** Relative to the project root ("suites/migration/ping-pong.spec.ts"). */
  readonly source: string;
  readonly why: 'newer' | 'not built';
}

/**
 * Sources under harness/ and suites/ whose compiled file under dist/ is older than they are, or
 * missing: `hil run` would execute something other than what they say. Modification times are
 * enough here: a build writes every output, and a checkout or edit makes the source newer.
 */
export function findStaleSources(projectRoot: string): StaleSource[] {
  const stale: StaleSource[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const source = relative(projectRoot, path);
        const built = join(projectRoot, 'dist', source.replace(/\.ts$/, '.js'));
        if (!existsSync(built)) stale.push({ source, why: 'not built' });
        else if (statSync(path).mtimeMs > statSync(built).mtimeMs) stale.push({ source, why: 'newer' });
      }
    }
  };
  // A package installed without the harness's TypeScript sources has nothing to compare.
  for (const folder of RUN_SOURCE_FOLDERS) if (existsSync(join(projectRoot, folder))) walk(join(projectRoot, folder));
  return stale.sort((a, b) => a.source.localeCompare(b.source));
}

/** Refuses to run compiled code that is older than its source (RUN_STALE_BUILD). */
export function checkBuildIsCurrent(projectRoot: string): void {
  const stale = findStaleSources(projectRoot);
  if (stale.length === 0) return;
  const shown = stale.slice(0, 10).map((s) => `${s.source} (${s.why === 'newer' ? 'changed since the last build' : 'never built'})`);
  const more = stale.length > shown.length ? `\n  ... and ${stale.length - shown.length} more` : '';
  throw new InfrastructureError('RUN_STALE_BUILD', `hil run executes the compiled code under ${join(projectRoot, 'dist')}, and ${stale.length} source file(s) are newer than it, so the run would not test what they say:\n  ${shown.join('\n  ')}${more}\nRun "npm run build" and run again.`);
}
