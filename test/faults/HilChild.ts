import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../harness/projectRoot.js';
import { waitFor } from '../../harness/waitFor.js';

/** How a `hil` child process ended. */
export interface HilExit {
  /** null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Controller clock (Date.now()) when the exit was seen. */
  readonly atMs: number;
}

/**
 * `node bin/hil.js <args>` as a child of the test, the way a user starts it: its output is kept
 * (stdout and stderr interleaved, as a terminal would show them) so a fault can be timed to what
 * the run says and its verdict read afterwards.
 */
export class HilChild {
  private readonly child: ChildProcess;
  private text = '';
  readonly exited: Promise<HilExit>;

  constructor(readonly args: readonly string[]) {
    this.child = spawn(process.execPath, ['bin/hil.js', ...args], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.text += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.text += d.toString(); });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal, atMs: Date.now() })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.text;
  }

  /** The run id `hil run` announced ("Run <id> on lab ..."), or null before it did. */
  get runId(): string | null {
    return /Run (\S+) on lab/.exec(this.text)?.[1] ?? null;
  }

  /** Waits until the output matches; the child exiting first ends the wait with its output. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    let exit: HilExit | null = null;
    void this.exited.then((e) => { exit = e; });
    return waitFor(`hil ${this.args.join(' ')} to print ${pattern}`, () => {
      const match = pattern.exec(this.text);
      if (match !== null) return { isDone: true, value: match };
      if (exit !== null) throw new Error(`hil ${this.args.join(' ')} exited (${exit.code ?? exit.signal}) before printing ${pattern}:\n${this.text}`);
      return { isDone: false, seen: this.text.split('\n').filter((l) => l !== '').slice(-1)[0] ?? 'no output yet' };
    }, { timeoutMs, intervalMs: 50 });
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Bounded: a child still running after the deadline is SIGKILLed, so no test leaves one behind. */
  async exit(timeoutMs: number): Promise<HilExit> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    const exit = await Promise.race([this.exited, deadline]);
    clearTimeout(timer);
    if (exit !== null) return exit;
    this.child.kill('SIGKILL');
    const killed = await this.exited;
    throw new Error(`hil ${this.args.join(' ')} still ran after ${timeoutMs} ms and was SIGKILLed (${killed.signal}):\n${this.text}`);
  }
}
