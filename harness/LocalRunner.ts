import { spawn } from 'node:child_process';
import { HarnessError } from './errors.js';
import type { CommandResult, CommandRunner, RunOptions } from './runner.js';

/**
 * Runs commands on the controller itself through /bin/sh, optionally inside a network namespace.
 * Used by the virtual lab to build itself and by tests that need a runner without SSH.
 */
export class LocalRunner implements CommandRunner {
  readonly where: string;

  constructor(private readonly options: { netns?: string; defaultTimeoutMs?: number } = {}) {
    this.where = options.netns === undefined ? 'controller' : `controller (netns ${options.netns})`;
  }

  run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? 60_000;
    const argv =
      this.options.netns === undefined
        ? ['/bin/sh', '-c', command]
        : ['ip', 'netns', 'exec', this.options.netns, '/bin/sh', '-c', command];
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        // The whole process group: a shell's children would otherwise outlive the timeout.
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new HarnessError('LOCAL_SPAWN_FAILED', `Could not start ${argv[0]} on the ${this.where}: ${error.message}`, { cause: error }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const result: CommandResult = {
          exitCode: code,
          signal: signal === null ? null : signal.replace(/^SIG/, ''),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          durationMs: Date.now() - startedAt,
        };
        if (timedOut) {
          reject(new HarnessError('LOCAL_TIMEOUT', `Command on the ${this.where} did not finish within ${timeoutMs} ms: ${command}`, { data: { command, timeoutMs, stdout: result.stdout, stderr: result.stderr } }));
        } else {
          resolve(result);
        }
      });
      // A command that exits without reading its stdin closes the pipe first: EPIPE is expected then.
      child.stdin.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') stderr.push(Buffer.from(`stdin: ${error.message}\n`));
      });
      child.stdin.end(options.stdin ?? '');
    });
  }
}

/** Runs a command and fails unless it exits 0; the error carries the command, code and stderr. */
export async function runChecked(runner: CommandRunner, command: string, options: RunOptions = {}): Promise<CommandResult> {
  const result = await runner.run(command, options);
  if (result.exitCode !== 0) {
    const why = result.signal !== null ? `was killed by SIG${result.signal}` : `exited ${result.exitCode}`;
    throw new HarnessError('COMMAND_FAILED', `Command on ${runner.where} ${why}: ${command}\n${result.stderr.trim().slice(-2000)}`, {
      data: { where: runner.where, command, exitCode: result.exitCode, signal: result.signal, stderr: result.stderr },
    });
  }
  return result;
}
