import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { readSshBanner } from '../virtual-lab/HostSshd.js';
import { processArgv, readPidFile, stopProcesses } from '../virtual-lab/processes.js';
import { waitFor } from '../waitFor.js';
import type { L1ImageFiles } from './L1ImageBuilder.js';
import { l1IdentityScript, l1QemuArgv, type L1VmOptions } from './l1QemuArgv.js';
import { NestedLabError } from './NestedLabError.js';
import { L1_SSH_PORT, type L1HostLayout } from './nestedLayout.js';

/** QEMU on the controller that runs the L1 hosts (bookworm-backports 10.0: igb needs >= 8.0). */
export const L0_QEMU_BINARY = '/usr/bin/qemu-system-x86_64';

export interface L1VmStatus {
  readonly host: string;
  readonly address: string;
  readonly pid?: number;
  readonly isRunning: boolean;
  /** sshd in the L1 sent its banner to the controller. */
  readonly isAnswering: boolean;
  readonly banner?: string;
  readonly consoleLogFile: string;
}

/** An L1 that does not come up is the lab's failure, never a product verdict. */
function l1WaitTimeout(what: string, timeoutMs: number, lastSeen: string): Error {
  return new NestedLabError('NESTED_WAIT_TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${lastSeen}`, { data: { what, timeoutMs, lastSeen } });
}

/** What ensureRunning did: found it answering, waited for a booting one, or booted it. */
export type L1StartOutcome = 'answering' | 'waited' | 'booted';

/**
 * One L1 host VM: launched under setsid inside the lab's VM namespace (its taps live there) with
 * its output in a log and its pid in a file, found again by pid + `-name` from any process, and
 * ready when its sshd answers on the lab network.
 */
export class L1Vm {
  constructor(
    readonly host: L1HostLayout,
    private readonly image: L1ImageFiles,
    private readonly namespace: string,
    private readonly authorizedKeysFile: string,
    private readonly options: L1VmOptions,
    private readonly runner: CommandRunner,
  ) {}

  argv(): string[] {
    return l1QemuArgv(this.host, this.image, this.authorizedKeysFile, this.options);
  }

  /** The QEMU pid when the pid file names a live process running this L1. */
  runningPid(): number | undefined {
    const pid = readPidFile(this.host.pidFile);
    if (pid === undefined) return undefined;
    const argv = processArgv(pid) ?? [];
    return argv.includes(this.host.vmName) ? pid : undefined;
  }

  /** Boots the L1 unless it runs; waits until its sshd answers either way. */
  async ensureRunning(timeoutMs: number): Promise<L1StartOutcome> {
    const pid = this.runningPid();
    if (pid !== undefined) {
      if ('banner' in (await readSshBanner(this.host.address, L1_SSH_PORT, 1_000))) return 'answering';
      await this.waitUntilAnswering(timeoutMs);
      return 'waited';
    }
    await this.start();
    await this.waitUntilAnswering(timeoutMs);
    return 'booted';
  }

  async start(): Promise<void> {
    mkdirSync(this.host.dir, { recursive: true });
    writeFileSync(this.host.identityFile, l1IdentityScript(this.host), { mode: 0o600 });
    for (const file of [this.host.pidFile, this.host.consoleLogFile]) rmSync(file, { force: true });
    // setsid -f: QEMU outlives `hil lab up` and gets no signal meant for it; -daemonize would
    // send its stderr to /dev/null (design.md §5), so the shell redirects it to the log.
    const launch = sh`exec "$0" "$@" > ${this.host.qemuLogFile} 2>&1 < /dev/null`;
    const qemu = this.options.tuning?.qemuCommand ?? [L0_QEMU_BINARY];
    await runChecked(this.runner, sh`ip netns exec ${this.namespace} setsid -f /bin/sh -c ${launch} ${qemu} ${this.argv()}`);
    await waitFor(
      `QEMU of L1 ${this.host.hostName} to write its pid file ${this.host.pidFile}`,
      () => {
        const pid = this.runningPid();
        if (pid !== undefined) return { isDone: true, value: pid };
        const log = existsSync(this.host.qemuLogFile) ? readFileSync(this.host.qemuLogFile, 'utf8').trim() : '';
        // QEMU that failed to start (a busy tap, a bad option) has said why in its log.
        if (log !== '' && readPidFile(this.host.pidFile) === undefined && /qemu-system[^:]*: /.test(log)) {
          throw new NestedLabError('NESTED_L1_START_FAILED', `QEMU of L1 ${this.host.hostName} did not start: ${log.slice(-1500)}`, { data: { log: this.host.qemuLogFile } });
        }
        return { isDone: false, seen: log === '' ? 'no pid file, empty log' : `log: ${log.slice(-200)}` };
      },
      { timeoutMs: 15_000, intervalMs: 100, onTimeout: l1WaitTimeout },
    );
  }

  async waitUntilAnswering(timeoutMs: number): Promise<string> {
    return waitFor(
      `L1 ${this.host.hostName} to answer SSH on ${this.host.address}:${L1_SSH_PORT} (console: ${this.host.consoleLogFile})`,
      async () => {
        const pid = this.runningPid();
        if (pid === undefined) {
          throw new NestedLabError('NESTED_L1_EXITED', `QEMU of L1 ${this.host.hostName} exited while booting; see ${this.host.qemuLogFile} and ${this.host.consoleLogFile}`);
        }
        const answer = await readSshBanner(this.host.address, L1_SSH_PORT, 1_000);
        return 'banner' in answer ? { isDone: true, value: answer.banner } : { isDone: false, seen: `QEMU pid ${pid}; console: ${this.lastConsoleLine()}; ssh: ${answer.failure}` };
      },
      { timeoutMs, intervalMs: 500, onTimeout: l1WaitTimeout },
    );
  }

  private lastConsoleLine(): string {
    if (!existsSync(this.host.consoleLogFile)) return '(no output yet)';
    const lines = readFileSync(this.host.consoleLogFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
    return lines.at(-1)?.slice(0, 160) ?? '(no output yet)';
  }

  /** SIGTERM (QEMU quits cleanly on it), then SIGKILL; the snapshot overlay goes with the process. */
  async stop(): Promise<number | undefined> {
    const pid = this.runningPid();
    if (pid !== undefined) await stopProcesses([pid], `QEMU of L1 ${this.host.hostName}`, 10_000);
    rmSync(this.host.pidFile, { force: true });
    return pid;
  }

  async status(): Promise<L1VmStatus> {
    const pid = this.runningPid();
    const answer = pid === undefined ? undefined : await readSshBanner(this.host.address, L1_SSH_PORT, 1_000);
    const banner = answer !== undefined && 'banner' in answer ? answer.banner : undefined;
    return {
      host: this.host.hostName,
      address: this.host.address,
      ...(pid === undefined ? {} : { pid }),
      isRunning: pid !== undefined,
      isAnswering: banner !== undefined,
      ...(banner === undefined ? {} : { banner }),
      consoleLogFile: this.host.consoleLogFile,
    };
  }
}
