import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from '../../harness/errors.js';
import { LocalUnixSockets } from '../../harness/qemu/LocalUnixSockets.js';
import { openListeningSocket } from '../../harness/qemu/openListeningSocket.js';

/** Test support: a local QEMU (paused, no guest) with a QMP unix socket, killed by kill(). */
export interface TestQemu {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly qmpSocket: string;
  /** Everything QEMU wrote to stdout and stderr so far. */
  output(): string;
  /** A fresh connection to the QMP socket. */
  connect(): Promise<Socket>;
  /** SIGKILL (if still running), wait for the exit, remove the folder. Idempotent. */
  kill(): Promise<void>;
}

export const TEST_QEMU_BINARY = '/usr/bin/qemu-system-x86_64';

/**
 * Starts QEMU with `args` (or a paused `-machine none` VM). `args(qmpSocket, dir)` lets a caller
 * place its own files in the temporary folder; it must open QMP on `qmpSocket`. `prefix` runs
 * QEMU through a command that execs it (e.g. `unshare --net --`), so the child is still QEMU.
 */
export async function spawnTestQemu(
  args?: (qmpSocket: string, dir: string) => readonly string[],
  options: { readonly timeoutMs?: number; readonly prefix?: readonly string[] } = {},
): Promise<TestQemu> {
  const dir = mkdtempSync(join(tmpdir(), 'hil-qmp-'));
  const qmpSocket = join(dir, 'qmp.sock');
  const argv = args?.(qmpSocket, dir) ?? [
    '-S', '-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'none', '-accel', 'tcg',
    '-qmp', `unix:${qmpSocket},server=on,wait=off`,
  ];
  const [program, ...programArgs] = [...(options.prefix ?? []), TEST_QEMU_BINARY, ...argv];
  const child = spawn(program!, programArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  const kill = async (): Promise<void> => {
    if (!hasExited) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(qmpSocket)) {
    if (hasExited || Date.now() > deadline) {
      const output = chunks.join('');
      await kill();
      throw new HarnessError('TEST_QEMU_NOT_STARTED', `QEMU did not create ${qmpSocket} within ${timeoutMs} ms (exited: ${hasExited}); output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return {
    child,
    dir,
    qmpSocket,
    output: () => chunks.join(''),
    // The socket's file is there before QEMU listens on it: a connect can be refused in between.
    connect: async () => (await openListeningSocket(new LocalUnixSockets(), qmpSocket, async () => !hasExited, timeoutMs)) as Socket,
    kill,
  };
}
