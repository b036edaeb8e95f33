import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive, stopProcesses } from './processes.js';
import { VirtualLabError } from './VirtualLabError.js';

export interface SmokeVmOptions {
  readonly qemuBinary: string;
  /** Host namespace the VM runs in, and its tap there. */
  readonly namespace: string;
  readonly tap: string;
  readonly mac: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly append: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** QEMU's stderr and the guest's serial output. */
  readonly logFile: string;
  readonly serialFile: string;
}

/**
 * A throwaway guest on one host's tap, to check the lab end to end (the image boots, its NIC
 * reaches the controller). Not the harness's VM launcher (harness/qemu): no QMP, no migration.
 */
export class SmokeVm {
  private constructor(
    readonly pid: number,
    readonly options: SmokeVmOptions,
    private readonly child: ChildProcess,
  ) {}

  static argv(options: SmokeVmOptions): string[] {
    return [
      options.qemuBinary,
      '-accel', 'tcg',
      '-machine', 'q35',
      '-cpu', 'max',
      '-m', String(options.memoryMiB),
      '-smp', String(options.cpus),
      '-nodefaults', '-no-user-config', '-display', 'none',
      // panic=-1 in the guest's command line reboots it on a panic: make that an exit instead.
      '-no-reboot',
      '-serial', `file:${options.serialFile}`,
      '-kernel', options.kernel,
      '-initrd', options.initrd,
      '-append', options.append,
      '-netdev', `tap,id=net0,ifname=${options.tap},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=net0,mac=${options.mac}`,
    ];
  }

  static start(options: SmokeVmOptions): SmokeVm {
    mkdirSync(dirname(options.logFile), { recursive: true });
    const log = openSync(options.logFile, 'w');
    // `ip netns exec` execs QEMU in place: the child's pid is QEMU's.
    const child = spawn('ip', ['netns', 'exec', options.namespace, ...SmokeVm.argv(options)], { stdio: ['ignore', log, log] });
    closeSync(log);
    if (child.pid === undefined) {
      throw new VirtualLabError('LAB_SMOKE_VM_FAILED', `Could not start ${options.qemuBinary} in namespace ${options.namespace}`);
    }
    return new SmokeVm(child.pid, options, child);
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && isAlive(this.pid);
  }

  /** QEMU's own messages (why it exited) and the tail of the guest's serial console. */
  describe(): string {
    const tail = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-15).join('\n') : '(not written)');
    return `QEMU pid ${this.pid} (${this.isRunning ? 'running' : `exited ${this.child.exitCode ?? this.child.signalCode}`})\n` +
      `--- ${this.options.logFile}\n${tail(this.options.logFile)}\n--- ${this.options.serialFile}\n${tail(this.options.serialFile)}`;
  }

  async stop(): Promise<void> {
    await stopProcesses([this.pid], `smoke VM in ${this.options.namespace}`);
  }
}
