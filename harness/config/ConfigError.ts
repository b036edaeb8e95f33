import { HarnessError } from '../errors.js';

/** One thing wrong with a lab file, at the place an editor can jump to. */
export interface ConfigProblem {
  /** The lab file as the user named it (kept short so that `file:line:col` stays clickable). */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
  /** Dotted path of the offending key or value ("hosts.host-a.port"); "" for the whole file. */
  readonly path: string;
  /** What is wrong, starting with the path: "hosts.host-a.port must be an integer 1-65535, got \"22x\"". */
  readonly message: string;
}

export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_NOT_FOUND';

/**
 * A lab file that cannot be used. CONFIG_INVALID carries every problem found (`data.problems`),
 * so a user fixes them in one pass; CONFIG_NOT_FOUND carries the path that was tried.
 */
export class ConfigError extends HarnessError {
  declare readonly code: ConfigErrorCode;

  constructor(code: ConfigErrorCode, message: string, options: { cause?: unknown; data?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }

  static invalid(problems: readonly ConfigProblem[]): ConfigError {
    const sorted = [...problems].sort(byPosition);
    return new ConfigError('CONFIG_INVALID', sorted.map(formatProblem).join('\n'), {
      data: { problems: sorted },
    });
  }

  /** The problems of a CONFIG_INVALID error (empty for other codes). */
  get problems(): readonly ConfigProblem[] {
    const problems = this.data['problems'];
    return Array.isArray(problems) ? (problems as ConfigProblem[]) : [];
  }
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}:${problem.col} ${problem.message}`;
}

function byPosition(a: ConfigProblem, b: ConfigProblem): number {
  return a.line - b.line || a.col - b.col;
}
