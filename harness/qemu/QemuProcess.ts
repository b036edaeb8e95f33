import type { Duplex } from 'node:stream';
import { errorMessage } from '../errors.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { raw, sh } from '../shell.js';
import { QmpDisconnectedError } from '../qmp/errors.js';
import { QmpClient, type QmpClientOptions } from '../qmp/QmpClient.js';
import { buildArgv } from './buildArgv.js';
import { QemuInstallationError, QemuTimeoutError, QemuStartError, QemuStateError, QemuStopError } from './errors.js';
import { installationFault } from './installationFault.js';
import { openListeningSocket, type UnixSocketOpener } from './openListeningSocket.js';
import { isVmProcessAlive, killVmByPidFileCommand, probeVmProcess, signalVmProcess, type VmProcessProbe } from './probeVmProcess.js';
import { vmFiles, type VmFiles } from './vmFiles.js';
import type { VmSpec } from './VmSpec.js';
import { becomesTrue, waitFor } from '../waitFor.js';

export type VmState = 'created' | 'starting' | 'running' | 'stopped';

/** Opens a unix socket on the VM's host: SshTransport in production, a local net.connect in tests. */
export interface QemuProcessDeps {
  /** Runs commands on the VM's host. */
  readonly runner: CommandRunner;
  readonly sockets: UnixSocketOpener;
  /** qemu-system-* on the host (QemuBuildSpec.binary). */
  readonly binary: string;
  /** The host's workDir: the log and pid file go here (vmFiles()). */
  readonly workDir: string;
  readonly qmp?: Omit<QmpClientOptions, 'where'>;
}

export interface StopOptions {
  /** After QMP `quit`, how long to wait for the process to go. Default 10 s. */
  readonly quitTimeoutMs?: number;
  readonly termTimeoutMs?: number;
  readonly killTimeoutMs?: number;
}

export interface StopOutcome {
  /** How the process ended: by our QMP quit, a signal, on its own, or it was never started. */
  readonly how: 'quit' | 'sigterm' | 'sigkill' | 'already-exited' | 'never-started';
  /** Things that went wrong on the way but did not stop the VM from being stopped. */
  readonly notes: readonly string[];
}

const LOG_TAIL_BYTES = 4096;

/**
 * One QEMU process on a host, supervised through a CommandRunner: launched under setsid with its
 * output in a log and its pid in a file (not -daemonize, which sends stderr to /dev/null), with
 * the one QMP connection its socket allows. States: created → starting → running → stopped.
 */
export class QemuProcess {
  readonly files: VmFiles;
  /** QEMU's arguments (without the binary), for reports. */
  readonly argv: readonly string[];
  readonly where: string;
  private stateValue: VmState = 'created';
  private pidValue: number | undefined;
  private qmpClient: QmpClient | undefined;
  private stopping: Promise<StopOutcome> | undefined;

  /** Throws VmSpecError at once for a spec that cannot work. */
  constructor(
    readonly spec: VmSpec,
    private readonly deps: QemuProcessDeps,
  ) {
    this.argv = buildArgv(spec);
    this.files = vmFiles(deps.workDir, spec.name);
    this.where = deps.runner.where;
  }

  get state(): VmState {
    return this.stateValue;
  }

  get pid(): number {
    if (this.pidValue === undefined) throw new QemuStateError(this.spec.name, 'pid', this.stateValue, 'running');
    return this.pidValue;
  }

  /** The VM's QMP client (open while running). */
  get qmp(): QmpClient {
    if (this.stateValue !== 'running' || this.qmpClient === undefined) throw new QemuStateError(this.spec.name, 'qmp', this.stateValue, 'running');
    return this.qmpClient;
  }

  /**
   * A shell command that kills this VM (if its pid still names it) and removes its sockets, pid
   * file and logs: for the host's undo journal, written before start() so a dead controller leaves
   * nothing. (A run that ends normally has copied the logs into its report before the replay.)
   */
  get undoCommand(): string {
    const { pidFile, log, serialLog, traceLog } = this.files;
    return `${killVmByPidFileCommand(pidFile, this.spec.name)}; ${sh`rm -f ${this.spec.qmpSocket} ${this.spec.serialSocket} ${pidFile} ${log} ${serialLog} ${traceLog}`}`;
  }

  /**
   * Launches QEMU and returns once it answered on QMP (so realize errors surface here, with QEMU's
   * words: QemuStartError). A start that failed on the installation (missing firmware, kernel,
   * binary) is a QemuInstallationError, a lab ERROR.
   */
  async start(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.stateValue !== 'created') throw new QemuStateError(this.spec.name, 'start', this.stateValue, 'created');
    this.stateValue = 'starting';
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    try {
      await runChecked(this.deps.runner, this.launchCommand(), { timeoutMs });
      this.pidValue = await this.waitForQmpSocket(Math.max(1000, deadline - Date.now()));
      this.qmpClient = await this.openQmp(Math.max(1000, deadline - Date.now()));
      this.stateValue = 'running';
    } catch (error) {
      await this.cleanUpAfterFailedStart();
      const fault = error instanceof QemuStartError ? installationFault(error.logTail) : null;
      throw fault === null ? error : new QemuInstallationError(this.spec.name, this.where, fault.what, fault.line, error as QemuStartError);
    }
  }

  /** By pid: kill -0 and /proc/<pid>/cmdline still naming this VM. False before start. */
  async isRunning(): Promise<boolean> {
    if (this.pidValue === undefined) return false;
    return isVmProcessAlive(this.deps.runner, this.pidValue, this.spec.name);
  }

  /** QMP quit, then SIGTERM, then SIGKILL, each with a deadline; always removes sockets and pid file. Idempotent. */
  stop(options: StopOptions = {}): Promise<StopOutcome> {
    if (this.stateValue === 'starting') return Promise.reject(new QemuStateError(this.spec.name, 'stop', this.stateValue, 'created, running or stopped'));
    if (this.stopping === undefined) {
      this.stopping = this.stateValue === 'created' ? this.markNeverStarted() : this.stopRunning(options);
    }
    return this.stopping;
  }

  /** The end of QEMU's log (stdout + stderr), for artifacts and error messages. "" if there is none. */
  async readLog(options: { readonly maxBytes?: number } = {}): Promise<string> {
    const log = this.files.log;
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    const { stdout } = await runChecked(this.deps.runner, sh`if [ -f ${log} ]; then tail -c ${maxBytes} ${log}; fi`);
    return stdout;
  }

  private launchCommand(): string {
    const { pidFile, log } = this.files;
    // setsid -f: QEMU leads its own session, so it outlives the SSH channel; the wrapper shell
    // writes its own pid ($$) then execs QEMU, so the pid file holds QEMU's pid.
    const wrapper = 'echo $$ > "$0" && exec "$@"';
    // umask 077: QEMU's sockets, log and pid file are the harness's alone (issue: private files).
    return sh`umask 077 && mkdir -p ${this.deps.workDir} && rm -f ${this.spec.qmpSocket} ${this.spec.serialSocket} ${pidFile} && setsid -f /bin/sh -c ${wrapper} ${pidFile} ${this.deps.binary} ${this.argv} ${raw('>')} ${log} ${raw('2>&1 </dev/null')}`;
  }

  private probe(knownPid = this.pidValue): Promise<VmProcessProbe> {
    return probeVmProcess(this.deps.runner, { name: this.spec.name, pidFile: this.files.pidFile, qmpSocket: this.spec.qmpSocket }, knownPid);
  }

  private async waitForQmpSocket(timeoutMs: number): Promise<number> {
    try {
      return await waitFor(
        `QEMU for ${this.spec.name} to create its QMP socket ${this.spec.qmpSocket}`,
        async () => {
          const probe = await this.probe();
          this.pidValue = probe.pid ?? this.pidValue;
          if (probe.pid !== undefined && !probe.isAlive) {
            throw new QemuStartError(this.spec.name, this.where, `the process (pid ${probe.pid}) exited`, await this.readLogTail(), { pid: probe.pid });
          }
          return probe.isAlive && probe.hasQmpSocket && probe.pid !== undefined ? { isDone: true, value: probe.pid } : { isDone: false, seen: probe.seen };
        },
        { timeoutMs, onTimeout: (what, ms, lastSeen) => new QemuTimeoutError(what, ms, lastSeen) },
      );
    } catch (error) {
      if (error instanceof QemuStartError) throw error;
      throw new QemuStartError(this.spec.name, this.where, errorMessage(error), await this.readLogTail(), { cause: error, pid: this.pidValue });
    }
  }

  private async openQmp(timeoutMs: number): Promise<QmpClient> {
    const where = `QMP of ${this.spec.name} on ${this.where}`;
    let client: QmpClient | undefined;
    try {
      const socket = await openListeningSocket(this.deps.sockets, this.spec.qmpSocket, () => this.isRunning(), timeoutMs);
      client = new QmpClient(socket, { ...this.deps.qmp, where });
      await client.open({ timeoutMs });
      return client;
    } catch (error) {
      await client?.close();
      // The QMP socket exists before devices are realized; a realize error makes QEMU exit and
      // drop the connection. Give it a moment to be gone, so the error says what really happened.
      const hasExited = await becomesTrue(async () => !(await this.isRunning()), { timeoutMs: 3000 });
      const reason = hasExited ? `the process (pid ${this.pidValue}) exited during startup` : `it did not answer on QMP (${errorMessage(error)})`;
      throw new QemuStartError(this.spec.name, this.where, reason, await this.readLogTail(), { cause: error, pid: this.pidValue });
    }
  }

  private async cleanUpAfterFailedStart(): Promise<void> {
    const outcome = await this.stopRunning({ quitTimeoutMs: 0, termTimeoutMs: 2000, killTimeoutMs: 5000 });
    this.stopping = Promise.resolve(outcome);
  }

  private async markNeverStarted(): Promise<StopOutcome> {
    this.stateValue = 'stopped';
    return { how: 'never-started', notes: [] };
  }

  private async stopRunning(options: StopOptions): Promise<StopOutcome> {
    const notes: string[] = [];
    let how: StopOutcome['how'] = 'already-exited';
    try {
      if (this.pidValue === undefined) this.pidValue = (await this.probe()).pid;
      const pid = this.pidValue;
      if (pid !== undefined && (await this.isRunning())) how = await this.endProcess(pid, options, notes);
    } finally {
      await this.qmpClient?.close();
      this.stateValue = 'stopped';
      await runChecked(this.deps.runner, sh`rm -f ${this.spec.qmpSocket} ${this.spec.serialSocket} ${this.files.pidFile}`);
    }
    return { how, notes };
  }

  private async endProcess(pid: number, options: StopOptions, notes: string[]): Promise<StopOutcome['how']> {
    const hasGone = (timeoutMs: number) => becomesTrue(async () => !(await this.isRunning()), { timeoutMs });
    const quitTimeoutMs = options.quitTimeoutMs ?? 10_000;
    if (this.qmpClient?.state === 'open' && quitTimeoutMs > 0) {
      try {
        await this.qmpClient.execute('quit', undefined, { timeoutMs: quitTimeoutMs });
      } catch (error) {
        // QEMU may close the socket before its reply to quit reaches us: that is success.
        if (!(error instanceof QmpDisconnectedError)) notes.push(`QMP quit failed: ${errorMessage(error)}`);
      }
      if (await hasGone(quitTimeoutMs)) return 'quit';
      notes.push(`still running ${quitTimeoutMs} ms after QMP quit`);
    }
    for (const [signal, timeoutMs, how] of [
      ['TERM', options.termTimeoutMs ?? 10_000, 'sigterm'],
      ['KILL', options.killTimeoutMs ?? 10_000, 'sigkill'],
    ] as const) {
      await signalVmProcess(this.deps.runner, pid, this.spec.name, signal);
      if (await hasGone(timeoutMs)) return how;
      notes.push(`still running ${timeoutMs} ms after SIG${signal}`);
    }
    throw new QemuStopError(this.spec.name, this.where, `pid ${pid} survived QMP quit, SIGTERM and SIGKILL (${notes.join('; ')})`, { pid });
  }

  private async readLogTail(): Promise<string> {
    return this.readLog({ maxBytes: LOG_TAIL_BYTES });
  }
}
