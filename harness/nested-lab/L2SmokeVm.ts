import { statSync } from 'node:fs';
import type { GuestImageSpec } from '../config/types.js';
import { runChecked } from '../LocalRunner.js';
import { QmpClient } from '../qmp/QmpClient.js';
import { sh } from '../shell.js';
import type { SshTransport } from '../ssh/SshTransport.js';
import { waitFor } from '../waitFor.js';
import { NestedLabError } from './NestedLabError.js';

export interface L2SmokeVmOptions {
  /** Names the VM's files in <workDir>/nested-l2-smoke; no "hil-" prefix (not a guest under test). */
  readonly name: string;
  /** The L1's workDir. */
  readonly workDir: string;
  /** kvm: L1's kvm_amd on the emulated SVM; tcg: TCG inside TCG (minutes). */
  readonly accelerator: 'kvm' | 'tcg';
  /** QEMU inside the L1; default trixie's 10.0. */
  readonly qemuBinary?: string;
  /**
   * A virtio NIC on a tap in the L1's br0 (bridged onto the lab network by the L1's lan NIC), and
   * the lab file's kernel command line (the guest's address and UDP echo). Default: no NIC.
   */
  readonly network?: { readonly tap: string; readonly mac: string };
  /** Start as a migration destination listening on this TCP port (-incoming). */
  readonly incomingPort?: number;
}

/**
 * A small L2 VM inside an L1 host, driven over the L1's SSH: the lab's own proof that guests run
 * there (kvm-in-L1), reach the lab network and migrate between L1s. Not the harness's VM under
 * test (that is harness/qemu); its files live in the L1's workDir and `stop` removes its tap.
 */
export class L2SmokeVm {
  readonly dir: string;
  readonly files: { readonly kernel: string; readonly initrd: string; readonly console: string; readonly log: string; readonly pid: string; readonly qmp: string };

  constructor(
    private readonly transport: SshTransport,
    private readonly guest: GuestImageSpec,
    private readonly options: L2SmokeVmOptions,
  ) {
    this.dir = `${options.workDir}/nested-l2-smoke`;
    const at = (suffix: string): string => `${this.dir}/${options.name}.${suffix}`;
    this.files = { kernel: `${this.dir}/vmlinuz`, initrd: `${this.dir}/initrd.img`, console: at('console'), log: at('log'), pid: at('pid'), qmp: at('qmp') };
  }

  argv(): string[] {
    const { network, accelerator, incomingPort } = this.options;
    const plainAppend = 'console=ttyS0 panic=-1';
    return [
      '-name', this.options.name, '-no-user-config', '-nodefaults', '-display', 'none',
      '-machine', 'q35', '-accel', accelerator, ...(accelerator === 'kvm' ? ['-cpu', 'host'] : []),
      '-m', `${this.guest.memoryMiB}M`, '-smp', '1',
      '-kernel', this.files.kernel, '-initrd', this.files.initrd,
      '-append', network === undefined ? plainAppend : (this.guest.append ?? plainAppend),
      ...(network === undefined ? [] : ['-netdev', `tap,id=net0,ifname=${network.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=net0,mac=${network.mac}`]),
      '-qmp', `unix:${this.files.qmp},server=on,wait=off`,
      '-serial', `file:${this.files.console}`, '-pidfile', this.files.pid,
      ...(incomingPort === undefined ? [] : ['-incoming', `tcp:0.0.0.0:${incomingPort}`]),
    ];
  }

  async launch(): Promise<void> {
    const { guest, transport, files } = this;
    if (guest.kernel === undefined || guest.initrd === undefined) {
      throw new NestedLabError('NESTED_L2_NOT_KERNEL', `guest ${guest.name} has no kernel + initrd; the L2 smoke VM needs them`);
    }
    await runChecked(transport, sh`mkdir -p ${this.dir}`);
    for (const [local, remote] of [[guest.kernel, files.kernel], [guest.initrd, files.initrd]] as const) {
      const remoteSize = (await transport.run(sh`stat -c %s ${remote}`)).stdout.trim();
      if (remoteSize !== String(statSync(local).size)) await transport.put(local, remote);
    }
    const { network } = this.options;
    if (network !== undefined) {
      await runChecked(transport, sh`ip link show ${network.tap} >/dev/null 2>&1 || ip tuntap add dev ${network.tap} mode tap; ip link set ${network.tap} master br0 up`);
    }
    const launch = sh`exec "$0" "$@" > ${files.log} 2>&1 < /dev/null`;
    const qemu = this.options.qemuBinary ?? '/usr/bin/qemu-system-x86_64';
    await runChecked(transport, sh`rm -f ${files.console} ${files.pid} ${files.qmp} && setsid -f /bin/sh -c ${launch} ${qemu} ${this.argv()}`);
  }

  /** Polls the serial console until it shows `text`; fails early when QEMU is gone. */
  async waitForConsole(text: string, timeoutMs: number): Promise<string> {
    const startedAt = Date.now();
    const { files } = this;
    return waitFor(
      `L2 ${this.options.name} in ${this.transport.where} to print "${text}" on ${files.console}`,
      async () => {
        const look = await this.transport.run(sh`tail -c 2000 ${files.console} 2>/dev/null; echo; echo ---; test -s ${files.pid} && kill -0 "$(cat ${files.pid})" && echo alive; tail -n 3 ${files.log} 2>/dev/null`);
        const [tail = '', status = ''] = look.stdout.split('\n---\n');
        if (tail.includes(text)) return { isDone: true, value: tail };
        if (!status.includes('alive') && Date.now() - startedAt > 5_000) {
          throw new NestedLabError('NESTED_L2_EXITED', `L2 ${this.options.name} in ${this.transport.where} is gone before "${text}": ${status.trim() || 'no QEMU output'}; console: ${tail.slice(-300)}`);
        }
        return { isDone: false, seen: tail.trim().split('\n').at(-1)?.slice(0, 160) ?? '(no console output)' };
      },
      { timeoutMs, intervalMs: 1_000 },
    );
  }

  /** QMP over the SSH connection's stream-local forward, once QEMU has made its socket. */
  async openQmp(timeoutMs = 30_000): Promise<QmpClient> {
    await waitFor(`QMP socket ${this.files.qmp} in ${this.transport.where}`, async () => {
      const result = await this.transport.run(sh`test -S ${this.files.qmp}`);
      return result.exitCode === 0 ? { isDone: true, value: undefined } : { isDone: false, seen: 'no socket yet' };
    }, { timeoutMs, intervalMs: 250 });
    const qmp = new QmpClient(await this.transport.openUnixSocket(this.files.qmp), { where: `QMP of L2 ${this.options.name} in ${this.transport.where}` });
    await qmp.open({ timeoutMs });
    return qmp;
  }

  async stop(): Promise<void> {
    await this.transport.run(sh`test -s ${this.files.pid} && kill "$(cat ${this.files.pid})"; rm -f ${this.files.pid}`);
    if (this.options.network !== undefined) await this.transport.run(sh`ip link del ${this.options.network.tap}`);
  }
}
