import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { raw, sh } from '../shell.js';
import { nameArgument } from './vmName.js';

/** What one look at a VM's process on its host found. */
export interface VmProcessProbe {
  /** From the pid file (or the pid already known); undefined if there is none yet. */
  readonly pid: number | undefined;
  /**
   * The pid answers `kill -0` AND its /proc/<pid>/cmdline still names this VM: a pid reused by
   * another process, or a zombie (empty cmdline), is not this VM.
   */
  readonly isAlive: boolean;
  readonly hasQmpSocket: boolean;
  /** "pid 4242 alive, QMP socket present": for wait messages. */
  readonly seen: string;
}

export interface VmProcessTarget {
  readonly name: string;
  readonly pidFile: string;
  readonly qmpSocket: string;
}

/**
 * Shell condition: the process whose pid is in shell variable $pid has `guest=<name>` as one of
 * its arguments. Every check and every signal goes through it, so a reused pid is never touched.
 */
function namesVm(name: string): string {
  return sh`tr '\\0' '\\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- ${nameArgument(name)}`;
}

/**
 * One round trip to the host. Liveness is by pid, never by whether the socket file exists
 * (design.md §5): QEMU leaves its socket behind when killed, and creates it before realizing devices.
 */
export async function probeVmProcess(runner: CommandRunner, target: VmProcessTarget, knownPid?: number): Promise<VmProcessProbe> {
  const script = sh`pidfile=${target.pidFile}; sock=${target.qmpSocket}; pid=${knownPid === undefined ? '' : String(knownPid)}
if [ -z "$pid" ] && [ -r "$pidfile" ]; then pid=$(cat "$pidfile"); fi
printf 'pid=%s\\n' "$pid"
case "$pid" in ''|*[!0-9]*) ;; *)
  kill -0 "$pid" 2>/dev/null && echo signalable
  ${raw(namesVm(target.name))} && echo named
  ;;
esac
[ -S "$sock" ] && echo socket
exit 0`;
  const { stdout } = await runChecked(runner, script, { timeoutMs: 15_000 });
  const lines = stdout.split('\n');
  const pidText = lines.find((line) => line.startsWith('pid='))?.slice(4) ?? '';
  const pid = /^\d+$/.test(pidText) ? Number(pidText) : undefined;
  const isSignalable = lines.includes('signalable');
  const isAlive = isSignalable && lines.includes('named');
  const hasQmpSocket = lines.includes('socket');
  const state =
    pid === undefined
      ? pidText === '' ? 'no pid file' : `pid file holds ${JSON.stringify(pidText)}`
      : isAlive ? `pid ${pid} alive` : isSignalable ? `pid ${pid} is another process (not ${target.name})` : `pid ${pid} gone`;
  return { pid, isAlive, hasQmpSocket, seen: `${state}, QMP socket ${hasQmpSocket ? 'present' : 'absent'}` };
}

/** kill -0 and the cmdline check, for a pid already known. */
export async function isVmProcessAlive(runner: CommandRunner, pid: number, name: string): Promise<boolean> {
  const { stdout } = await runChecked(runner, sh`pid=${pid}; if kill -0 "$pid" 2>/dev/null && ${raw(namesVm(name))}; then echo alive; fi; exit 0`, { timeoutMs: 15_000 });
  return stdout.trim() === 'alive';
}

/** Sends a signal to the pid only while its cmdline still names this VM. */
export async function signalVmProcess(runner: CommandRunner, pid: number, name: string, signal: 'TERM' | 'KILL'): Promise<void> {
  await runChecked(runner, sh`pid=${pid}; if ${raw(namesVm(name))}; then kill -${raw(signal)} "$pid" 2>/dev/null; fi; exit 0`, { timeoutMs: 15_000 });
}

/** The same guarded kill as a command line, for an undo journal written before the VM starts. */
export function killVmByPidFileCommand(pidFile: string, name: string): string {
  return sh`pid=$(cat ${pidFile} 2>/dev/null); case "$pid" in ''|*[!0-9]*) ;; *) ${raw(namesVm(name))} && kill -KILL "$pid";; esac`;
}
