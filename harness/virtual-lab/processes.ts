import { VirtualLabError } from './VirtualLabError.js';
import { existsSync, readFileSync } from 'node:fs';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { becomesTrue, waitFor } from '../waitFor.js';

/** argv of a live process, or undefined when it is gone (zombies count as gone). */
export function processArgv(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state letter follows the parenthesised command name, which may itself hold ") ".
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw error;
  }
}

export function isAlive(pid: number): boolean {
  return processArgv(pid) !== undefined;
}

export function readPidFile(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Processes whose network namespace is `namespace` (they may live in other mount/pid namespaces). */
export async function namespacePids(runner: CommandRunner, namespace: string): Promise<number[]> {
  const result = await runChecked(runner, sh`ip netns pids ${namespace}`);
  return result.stdout.split(/\s+/).filter((p) => p !== '').map(Number).filter((p) => p !== process.pid);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // Gone between the listing and the signal: that is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * SIGTERM, then SIGKILL for whatever is still alive after `graceMs`; waits until every pid is
 * gone. QEMU exits on SIGTERM after flushing its log; sshd closes its listener.
 */
export async function stopProcesses(pids: readonly number[], what: string, graceMs = 3_000): Promise<void> {
  const alive = (): number[] => pids.filter(isAlive);
  if (alive().length === 0) return;
  for (const pid of alive()) signal(pid, 'SIGTERM');
  const describe = (): string => alive().map((p) => `${p} ${(processArgv(p) ?? []).slice(0, 2).join(' ')}`).join(', ');
  const isGone = await becomesTrue(() => alive().length === 0, { timeoutMs: graceMs });
  if (isGone) return;
  for (const pid of alive()) signal(pid, 'SIGKILL');
  await waitFor(`${what} to exit after SIGKILL`, () => (alive().length === 0 ? { isDone: true, value: undefined } : { isDone: false, seen: describe() }), { timeoutMs: 5_000, onTimeout: (what: string, ms: number, lastSeen: string) => new VirtualLabError('LAB_WAIT_TIMEOUT', `Timed out after ${ms} ms waiting for ${what}; last seen: ${lastSeen}`, { data: { what, timeoutMs: ms, lastSeen } }) });
}
