import { spawnSync } from 'node:child_process';
import type { SourceRevision } from '../report/RunResults.js';
import { RUN_SOURCE_FOLDERS } from './staleBuild.js';

const MAX_DIRTY_PATHS = 50;

/** The git commit of the project and whether harness/ or suites/ differ from it, for results.json. */
export function sourceRevision(projectRoot: string): SourceRevision {
  const git = (...args: string[]) => spawnSync('git', ['-C', projectRoot, ...args], { encoding: 'utf8', timeout: 10_000 });
  const head = git('rev-parse', 'HEAD');
  if (head.error !== undefined || head.status !== 0) {
    const why = head.error !== undefined ? `git could not be run (${head.error.message})` : `${projectRoot} is not a git checkout (${head.stderr.trim()})`;
    return { commit: null, isDirty: null, dirtyPaths: [], note: why };
  }
  const status = git('status', '--porcelain', '--untracked-files=all', '--', ...RUN_SOURCE_FOLDERS);
  if (status.status !== 0) return { commit: head.stdout.trim(), isDirty: null, dirtyPaths: [], note: `git status failed: ${status.stderr.trim()}` };
  const paths = status.stdout.split('\n').filter((line) => line.trim() !== '').map((line) => line.slice(3));
  return { commit: head.stdout.trim(), isDirty: paths.length > 0, dirtyPaths: paths.slice(0, MAX_DIRTY_PATHS), note: null };
}
