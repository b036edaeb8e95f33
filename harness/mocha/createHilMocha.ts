import Mocha from 'mocha';
import type { RunResults } from '../report/RunResults.js';
import type { LabSession } from '../session/LabSession.js';
import type { TestScope } from '../session/TestScope.js';
import { FailureJudge, type FailureJudgeOptions } from './FailureJudge.js';
import { HilReporter } from './HilReporter.js';
import { retryOnlyLabErrors } from './retryOnlyLabErrors.js';
import { rootHooks } from './rootHooks.js';
import { escapeRegExp } from '../escapeRegExp.js';

export interface HilMochaOptions extends FailureJudgeOptions {
  readonly results: RunResults;
  readonly runDir: string;
  readonly distRoot: string;
  readonly print: (line: string) => void;
  readonly session: LabSession | null;
  readonly interrupt?: { currentScope: TestScope | null };
  readonly timeoutMs: number;
  /** How many times a test whose attempt was a lab ERROR runs again; a FAIL or a verdict never does. */
  readonly retries: number;
  readonly grep?: string;
}

export interface HilMocha {
  readonly mocha: Mocha;
  /** Runs the loaded suites to their end; `onRunner` sees the runner before the first test. */
  run(onRunner?: (runner: Mocha.Runner) => void): Promise<void>;
}

/**
 * `--grep TEXT` keeps the tests whose full title contains TEXT, as the CLI says: mocha would take
 * a string as a regular expression, and "B(i)" would then match no title.
 */
export function grepPattern(text: string): RegExp {
  return new RegExp(escapeRegExp(text));
}

/** The mocha of `hil run`: its reporter, root hooks and retry policy, in one place for the CLI and its tests. */
export function createHilMocha(options: HilMochaOptions): HilMocha {
  const judge = new FailureJudge(options);
  const mocha = new Mocha({
    reporter: HilReporter as unknown as string,
    reporterOptions: { results: options.results, runDir: options.runDir, print: options.print, judge, distRoot: options.distRoot },
    rootHooks: rootHooks(options.runDir, options.session, options.interrupt),
    timeout: options.timeoutMs,
    retries: options.retries,
    ...(options.grep !== undefined ? { grep: grepPattern(options.grep) } : {}),
  });
  return {
    mocha,
    run: (onRunner) => new Promise<void>((done) => {
      const runner = mocha.run(() => done());
      // An interrupted run is not retried: the user asked it to stop.
      retryOnlyLabErrors(runner, (_test, error) => !judge.isInterrupted && judge.judge(error).outcome === 'ERROR');
      onRunner?.(runner);
    }),
  };
}
