import { accessSync, constants, existsSync, mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { LabConfig } from '../config/types.js';
import { InfrastructureError } from '../errors.js';

/**
 * Free space a run needs for its reports: results, page and the artifacts of a handful of tests
 * (QEMU, console and trace logs are capped at a few MiB each).
 */
export const MIN_REPORTS_FREE_BYTES = 16 * 1024 * 1024;

/**
 * Says so before any host is touched when a run could not write its results: reportsDir cannot
 * be made (a file where a folder should be, a read-only place), is not writable, or its file
 * system is (nearly) full.
 */
export function checkReportsWritable(lab: LabConfig): void {
  const dir = lab.reportsDir;
  const refuse = (why: string, cause?: unknown): never => {
    throw new InfrastructureError('REPORTS_NOT_WRITABLE', `Cannot write reports to ${dir}: ${why}. Fix lab.reportsDir in ${lab.file}, or the folder's permissions or free space.`, cause === undefined ? {} : { cause });
  };
  try {
    makeFolder(dir);
    accessSync(dir, constants.W_OK);
  } catch (error) {
    refuse((error as Error).message, error);
  }
  const space = statfsSync(dir);
  const freeBytes = space.bavail * space.bsize;
  if (freeBytes < MIN_REPORTS_FREE_BYTES) refuse(`only ${(freeBytes / 1024).toFixed(0)} KiB free on its file system, the run needs ${MIN_REPORTS_FREE_BYTES / 1024 / 1024} MiB`);
}

/**
 * mkdir -p one level at a time. Node's own recursive mkdir spins forever on a path whose parent
 * exists but refuses children with ENOENT (anything under /proc): it takes ENOENT for "no parent",
 * makes the parent (EEXIST), and retries. Each level here is tried once and fails with the OS's word.
 */
function makeFolder(dir: string): void {
  const missing: string[] = [];
  for (let at = resolve(dir); !existsSync(at); at = dirname(at)) missing.unshift(at);
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      // Another run (a parallel shard) may have made it meanwhile.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(level).isDirectory()) throw error;
    }
  }
}
