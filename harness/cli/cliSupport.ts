import type { Command } from 'commander';
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
  // As given, so problems read like `lab.yaml:14:7 ...`; the loader resolves it against the cwd.
  return loadLab(options.lab);
}
