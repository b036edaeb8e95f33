import { posix } from 'node:path';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { QemuStopError } from './errors.js';
import { isVmProcessAlive, signalVmProcess } from './probeVmProcess.js';
import { nameFromArgument, parseVmName } from './vmName.js';
import { becomesTrue } from '../waitFor.js';

/** A QEMU on a host that names a harness VM ("-name guest=hil-...") of another run. */
export interface StaleQemu {
  readonly pid: number;
  readonly vmName: string;
  /** Parsed from the name; undefined if the name does not follow hil-<runId>-<role>. */
  readonly runId: string | undefined;
  /** The whole command line, argv[0] first. */
  readonly argv: readonly string[];
}

export interface StaleQemuReport {
  readonly processes: readonly StaleQemu[];
  /** Pid files and sockets in workDir left by VMs of other runs. */
  readonly leftoverFiles: readonly string[];
}

/** Bytes that stand in for NUL and newline in the listing (unit and record separators). */
const ARG_SEPARATOR = '\x1f';
const NEWLINE_STAND_IN = '\x1e';

/**
 * For preflight: every QEMU whose command line names a `hil-` VM that is not of `currentRunId`
 * (all of them when no run id is given), and the pid files / sockets other runs left in workDir.
 */
export async function findStaleQemu(
  runner: CommandRunner,
  workDir: string,
  options: { readonly currentRunId?: string } = {},
): Promise<StaleQemuReport> {
  // grep -z reads each NUL-separated argument as a line, so '^guest=hil-' anchors on one argument.
  const script = sh`for f in $(grep -lz '^guest=hil-' /proc/[0-9]*/cmdline 2>/dev/null); do
  pid=$(echo "$f" | cut -d/ -f3)
  printf 'proc %s ' "$pid"; tr '\\0\\n' '\\037\\036' < "$f" 2>/dev/null; printf '\\n'
done
if [ -d ${workDir} ]; then
  for f in ${workDir}/hil-*.pid ${workDir}/hil-*.qmp ${workDir}/hil-*.serial; do [ -e "$f" ] && printf 'file %s\\n' "$f"; done
fi
exit 0`;
  const { stdout } = await runChecked(runner, script, { timeoutMs: 30_000 });
  const isStale = (name: string) => options.currentRunId === undefined || parseVmName(name)?.runId !== options.currentRunId;
  const processes: StaleQemu[] = [];
  const leftoverFiles: string[] = [];
  for (const line of stdout.split('\n')) {
    const proc = /^proc (\d+) (.*)$/s.exec(line);
    if (proc !== null) {
      const argv = proc[2]!.split(ARG_SEPARATOR).map((arg) => arg.split(NEWLINE_STAND_IN).join('\n'));
      if (argv[argv.length - 1] === '') argv.pop();
      const vmName = qemuVmName(argv);
      if (vmName !== undefined && isStale(vmName)) processes.push({ pid: Number(proc[1]), vmName, runId: parseVmName(vmName)?.runId, argv });
    } else if (line.startsWith('file ')) {
      const path = line.slice('file '.length);
      const name = posix.basename(path).replace(/\.(pid|qmp|serial)$/, '');
      if (isStale(name)) leftoverFiles.push(path);
    }
  }
  return { processes, leftoverFiles };
}

/** The VM name if argv is a QEMU's (argv[0] qemu*) with `-name guest=<name>`; else undefined. */
function qemuVmName(argv: readonly string[]): string | undefined {
  if (!posix.basename(argv[0] ?? '').startsWith('qemu')) return undefined;
  const at = argv.indexOf('-name');
  return at >= 0 && at + 1 < argv.length ? nameFromArgument(argv[at + 1]!) : undefined;
}

/**
 * Ends a stale QEMU: SIGTERM, then SIGKILL, each with a deadline; only while its pid still names
 * the VM found. Returns how it ended; throws if it survived SIGKILL.
 */
export async function killStaleQemu(
  runner: CommandRunner,
  stale: StaleQemu,
  options: { readonly termTimeoutMs?: number; readonly killTimeoutMs?: number } = {},
): Promise<'sigterm' | 'sigkill' | 'already-exited'> {
  const hasGone = (timeoutMs: number) => becomesTrue(async () => !(await isVmProcessAlive(runner, stale.pid, stale.vmName)), { timeoutMs });
  if (!(await isVmProcessAlive(runner, stale.pid, stale.vmName))) return 'already-exited';
  await signalVmProcess(runner, stale.pid, stale.vmName, 'TERM');
  if (await hasGone(options.termTimeoutMs ?? 10_000)) return 'sigterm';
  await signalVmProcess(runner, stale.pid, stale.vmName, 'KILL');
  if (await hasGone(options.killTimeoutMs ?? 10_000)) return 'sigkill';
  throw new QemuStopError(stale.vmName, runner.where, `stale pid ${stale.pid} survived SIGTERM and SIGKILL`, { pid: stale.pid });
}
