import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as pty from 'node-pty';
import { HarnessError } from '../errors.js';
import type { CommandResult, CommandRunner, RunOptions } from '../runner.js';

export type ConsoleState = 'new' | 'open' | 'closed';

export interface GuestConsoleOptions {
  /** The attach command: argv[0] and its arguments (ssh -tt ... socat ..., or a local socat). */
  readonly argv: readonly string[];
  /** Names the console in messages: "guest console of hil-r1-src". */
  readonly where: string;
  /** The whole transcript is appended here as it arrives (an artifact of the test). */
  readonly transcriptPath?: string;
  readonly defaultTimeoutMs?: number;
}

const TAIL_BYTES = 2048;

export class ConsoleTimeoutError extends HarnessError {}

/**
 * The guest's serial console through node-pty. `expect` consumes output up to the match; `run`
 * wraps a command in printed markers so its output and exit code can be cut out of the stream.
 */
export class GuestConsole implements CommandRunner {
  readonly where: string;
  private state: ConsoleState = 'new';
  private process: pty.IPty | null = null;
  private buffer = '';
  /** Everything before this index in `buffer` has been consumed by expect/run. */
  private consumed = 0;
  private waiters = new Set<() => void>();
  private exitInfo: { exitCode: number; signal?: number } | null = null;
  private markerCount = 0;

  constructor(private readonly options: GuestConsoleOptions) {
    this.where = options.where;
  }

  get currentState(): ConsoleState {
    return this.state;
  }

  /** All output seen so far. */
  get transcript(): string {
    return this.buffer;
  }

  open(): void {
    this.requireState('open', 'new');
    const [file, ...args] = this.options.argv;
    if (file === undefined) throw new HarnessError('CONSOLE_ARGV', `${this.where}: empty attach command`);
    if (this.options.transcriptPath !== undefined) {
      mkdirSync(dirname(this.options.transcriptPath), { recursive: true });
      writeFileSync(this.options.transcriptPath, '', { mode: 0o600 });
    }
    this.process = pty.spawn(file, args, { name: 'dumb', cols: 200, rows: 50, env: { ...process.env, TERM: 'dumb' } });
    this.state = 'open';
    this.process.onData((data) => {
      this.buffer += data;
      if (this.options.transcriptPath !== undefined) appendFileSync(this.options.transcriptPath, data);
      this.wake();
    });
    this.process.onExit((info) => {
      this.exitInfo = info;
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  write(text: string): void {
    this.requireState('write', 'open');
    this.process?.write(text);
  }

  /**
   * Waits until `pattern` appears in output not yet consumed; consumes through the match and
   * returns it. The timeout error shows the pattern and the last 2 KiB seen.
   */
  async expect(pattern: RegExp | string, timeoutMs = this.options.defaultTimeoutMs ?? 30_000): Promise<RegExpExecArray> {
    this.requireState('expect', 'open');
    const regex = typeof pattern === 'string' ? new RegExp(escapeRegExp(pattern)) : pattern;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const rest = this.buffer.slice(this.consumed);
        const match = regex.exec(rest);
        if (match !== null) {
          finish();
          this.consumed += match.index + match[0].length;
          resolve(match);
        } else if (this.exitInfo !== null) {
          finish();
          reject(new HarnessError('CONSOLE_CLOSED', `${this.where}: the attach command exited (code ${this.exitInfo.exitCode}) while waiting for ${regex}. Last output:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new ConsoleTimeoutError('CONSOLE_TIMEOUT', `${this.where}: ${regex} did not appear within ${timeoutMs} ms. Last ${TAIL_BYTES} bytes seen:\n${this.tail()}`, {
          data: { pattern: String(regex), timeoutMs, tail: this.tail() },
        }));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Runs a shell command in the guest. The markers are printed by printf from pieces, so the
   * echoed command line never contains the marker text itself.
   */
  async run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    this.requireState('run', 'open');
    if (options.stdin !== undefined) throw new HarnessError('CONSOLE_STDIN', `${this.where}: run() over a serial console takes no stdin`);
    if (/[\r\n]/.test(command)) throw new HarnessError('CONSOLE_MULTILINE', `${this.where}: run() takes one line; got a command with a line break`);
    const id = `${process.pid}x${++this.markerCount}`;
    const startedAt = Date.now();
    // One line: a second typed line would be echoed at once and its prompt would land in the output.
    this.write(`printf '\\n__HIL_%s_${id}__\\n' B; ${command}; printf '\\n__HIL_%s_${id}_%s__\\n' E $?\n`);
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? 30_000;
    await this.expect(new RegExp(`__HIL_B_${id}__\\r?\\n`), timeoutMs);
    const outputStart = this.consumed;
    const end = await this.expect(new RegExp(`\\r?\\n__HIL_E_${id}_(\\d+)__`), timeoutMs);
    const stdout = this.buffer.slice(outputStart, this.consumed - end[0].length).replace(/\r\n/g, '\n');
    return { exitCode: Number(end[1]), signal: null, stdout: stripEchoedLine(stdout, id), stderr: '', durationMs: Date.now() - startedAt };
  }

  private tail(): string {
    return this.buffer.slice(-TAIL_BYTES);
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.process?.kill();
    this.process = null;
  }

  private requireState(call: string, expected: ConsoleState): void {
    if (this.state !== expected) {
      throw new HarnessError('CONSOLE_STATE', `${this.where}: ${call}() needs the console ${expected}, it is ${this.state}`);
    }
  }
}

/** The echo of the end-marker command line may land in the output of a fast command. */
function stripEchoedLine(text: string, id: string): string {
  return text
    .split('\n')
    .filter((line) => !line.includes(`__HIL_%s_${id}`))
    .join('\n');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
