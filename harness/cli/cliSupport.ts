import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadLab } from '../config/loadLab.js';
import type { LabConfig } from '../config/types.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
}

/** The lab file named by --lab (default ./lab.yaml), loaded and validated. */
export function loadLabOption(program: Command): LabConfig {
  const options = program.opts<{ lab: string }>();
  return loadLab(resolve(options.lab));
}
