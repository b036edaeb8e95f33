import type { Environment } from '../../config/environment.js';
import { PlainProgress, TerminalProgress, type RunProgress } from './RunProgress.js';

/** A live status line on a terminal; plain lines in CI logs; colour unless NO_COLOR or not a TTY. */
export function createRunProgress(environment: Environment, out: (line: string) => void, terminal: NodeJS.WriteStream = process.stdout): RunProgress {
  if (!environment.isTty) return new PlainProgress(out);
  return new TerminalProgress({ write: (text) => terminal.write(text), get columns() { return terminal.columns ?? 80; } }, !environment.isColorless);
}
