import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as pty from 'node-pty';
import { HarnessError } from '../errors.js';
import { escapeRegExp } from '../escapeRegExp.js';
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

/**
 * The longest line typed to a guest shell. Busybox's line editing keeps 1023 characters of a line
 * (FEATURE_EDITING_MAX_LEN 1024) and drops the rest without a word: a longer line would run cut
 * short (its end marker's `$?` among what is lost).
 */
export const MAX_CONSOLE_LINE_CHARS = 1000;

export class ConsoleTimeoutError extends HarnessError {}

/** A command typed ahead (GuestConsole.arm): fire() lets it run and waits for its result. */
export interface ArmedCommand {
  fire(options?: RunOptions): Promise<CommandResult>;
}

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
    const startedAt = Date.now();
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? 30_000;
    const id = await this.typeLine('run', command, options, '');
    return this.finish(id, startedAt, timeoutMs);
  }

  /**
   * Types a command now and runs it later: the shell takes the whole line at once and waits on a
   * `read` until `fire()` sends a single newline. For a command that must start while the guest
   * is slow: during a migration's pre-copy a nested-lab guest can take seconds per character it
   * reads, so a line typed then may not even be read before the source stops. Until fired (or
   * if never fired) the next line typed on this console would be taken as the go.
   */
  async arm(command: string, options: RunOptions = {}): Promise<ArmedCommand> {
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? 30_000;
    const id = await this.typeLine('arm', command, options, 'read -r _; ');
    let isFired = false;
    return {
      fire: async (fireOptions: RunOptions = {}) => {
        if (isFired) throw new HarnessError('CONSOLE_STATE', `${this.where}: an armed command fires once`);
        isFired = true;
        this.requireState('fire', 'open');
        const startedAt = Date.now();
        this.write('\n');
        return this.finish(id, startedAt, fireOptions.timeoutMs ?? timeoutMs);
      },
    };
  }

  /** Types one marked line and waits until the shell has started it (its begin marker). */
  private async typeLine(call: string, command: string, options: RunOptions, gate: string): Promise<string> {
    this.requireState(call, 'open');
    if (options.stdin !== undefined) throw new HarnessError('CONSOLE_STDIN', `${this.where}: ${call}() over a serial console takes no stdin`);
    if (/[\r\n]/.test(command)) throw new HarnessError('CONSOLE_MULTILINE', `${this.where}: ${call}() takes one line; got a command with a line break`);
    const id = `${process.pid}x${++this.markerCount}`;
    // One line: a second typed line would be echoed at once and its prompt would land in the output.
    const line = `printf '\\n__HIL_%s_${id}__\\n' B; ${gate}${command}; printf '\\n__HIL_%s_${id}_%s__\\n' E $?`;
    if (line.length > MAX_CONSOLE_LINE_CHARS) {
      throw new HarnessError('CONSOLE_LINE_TOO_LONG', `${this.where}: ${call}() would type a line of ${line.length} characters, more than the ${MAX_CONSOLE_LINE_CHARS} a guest shell keeps (the rest would be dropped silently); shorten the command or put it in a script in the guest image`, { data: { length: line.length } });
    }
    this.write(`${line}\n`);
    await this.expect(new RegExp(`__HIL_B_${id}__\\r?\\n`), options.timeoutMs ?? this.options.defaultTimeoutMs ?? 30_000);
    return id;
  }

  /** Output from the begin marker (already consumed) to the end marker, and the exit code. */
  private async finish(id: string, startedAt: number, timeoutMs: number): Promise<CommandResult> {
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
