import { statSync } from 'node:fs';
import type { GuestImageSpec } from '../config/types.js';
import { runChecked } from '../LocalRunner.js';
import { sh } from '../shell.js';
import type { SshTransport } from '../ssh/SshTransport.js';
import { waitFor } from '../waitFor.js';
import { NestedLabError } from './NestedLabError.js';

export interface L2BootOptions {
  /** The L1's workDir; the smoke guest's files go to <workDir>/nested-l2-smoke. */
  readonly workDir: string;
  /** kvm: L1's kvm_amd on the emulated SVM; tcg: TCG inside TCG (minutes). */
  readonly accelerator: 'kvm' | 'tcg';
  readonly timeoutMs: number;
  /** QEMU inside the L1; default trixie's. */
  readonly qemuBinary?: string;
  /**
   * Give the L2 a virtio NIC on a tap in the L1's br0 (bridged onto the lab network by the L1's
   * lan NIC) and the lab file's kernel command line (its address and UDP echo). Default: no NIC.
   */
  readonly network?: { readonly tap: string; readonly mac: string };
  /** Runs once the console says ready, before the L2 is stopped (a probe from the controller). */
  readonly whileRunning?: () => Promise<void>;
}

export interface L2BootResult {
  /** From launching QEMU in the L1 to "hil: ready" on the L2's serial console. */
  readonly readyMs: number;
  readonly consoleTail: string;
}

/** The init's ready line (guest/init.sh): stable wording the harness keys on. */
const READY = 'hil: ready';

/**
 * Boots the lab's L2 guest image inside an L1 host and waits for its ready line: proof that the
 * nested lab can run a guest, and the figure for kvm-in-L1 against TCG. With `network` the L2
 * also gets a NIC on the L1's br0 and the lab file's address, and `whileRunning` can check it from
 * outside (a UDP echo from the controller). The QEMU is stopped before returning.
 */
export async function bootL2InL1(transport: SshTransport, guest: GuestImageSpec, options: L2BootOptions): Promise<L2BootResult> {
  if (guest.kernel === undefined || guest.initrd === undefined) {
    throw new NestedLabError('NESTED_L2_NOT_KERNEL', `guest ${guest.name} has no kernel + initrd; the L2 smoke boot needs them`);
  }
  const dir = `${options.workDir}/nested-l2-smoke`;
  const files = { kernel: `${dir}/vmlinuz`, initrd: `${dir}/initrd.img`, console: `${dir}/console-${options.accelerator}.log`, pid: `${dir}/qemu-${options.accelerator}.pid` };
  await runChecked(transport, sh`mkdir -p ${dir}`);
  for (const [local, remote] of [[guest.kernel, files.kernel], [guest.initrd, files.initrd]] as const) {
    const remoteSize = (await transport.run(sh`stat -c %s ${remote}`)).stdout.trim();
    if (remoteSize !== String(statSync(local).size)) await transport.put(local, remote);
  }
  const qemu = options.qemuBinary ?? '/usr/bin/qemu-system-x86_64';
  const { network } = options;
  if (network !== undefined) {
    await runChecked(transport, sh`ip link show ${network.tap} >/dev/null 2>&1 || ip tuntap add dev ${network.tap} mode tap; ip link set ${network.tap} master br0 up`);
  }
  const nicArgs = network === undefined
    ? []
    : ['-netdev', `tap,id=net0,ifname=${network.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=net0,mac=${network.mac}`];
  const argv = [
    '-name', `l2smoke-${options.accelerator}`, '-no-user-config', '-nodefaults', '-display', 'none',
    '-machine', 'q35', '-accel', options.accelerator, ...(options.accelerator === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', `${guest.memoryMiB}M`, '-smp', '1',
    '-kernel', files.kernel, '-initrd', files.initrd, '-append', network === undefined ? 'console=ttyS0 panic=-1' : (guest.append ?? 'console=ttyS0 panic=-1'),
    ...nicArgs,
    '-serial', `file:${files.console}`, '-pidfile', files.pid,
  ];
  const launch = sh`exec "$0" "$@" > ${`${files.console}.qemu`} 2>&1 < /dev/null`;
  await runChecked(transport, sh`rm -f ${files.console} ${files.pid} && setsid -f /bin/sh -c ${launch} ${qemu} ${argv}`);
  const startedAt = Date.now();
  try {
    const consoleTail = await waitFor(
      `the L2 guest (${options.accelerator}) in ${transport.where} to print "${READY}" on ${files.console}`,
      async () => {
        const look = await transport.run(sh`tail -c 2000 ${files.console} 2>/dev/null; echo; echo ---; test -s ${files.pid} && kill -0 "$(cat ${files.pid})" && echo alive; cat ${`${files.console}.qemu`} 2>/dev/null | tail -n 3`);
        const [tail = '', status = ''] = look.stdout.split('\n---\n');
        if (tail.includes(READY)) return { isDone: true, value: tail };
        if (!status.includes('alive') && Date.now() - startedAt > 5_000) {
          throw new NestedLabError('NESTED_L2_EXITED', `The L2 QEMU in ${transport.where} is gone before "${READY}": ${status.trim() || 'no QEMU output'}; console: ${tail.slice(-300)}`);
        }
        return { isDone: false, seen: tail.trim().split('\n').at(-1)?.slice(0, 160) ?? '(no console output)' };
      },
      { timeoutMs: options.timeoutMs, intervalMs: 1_000 },
    );
    const readyMs = Date.now() - startedAt;
    if (options.whileRunning !== undefined) await options.whileRunning();
    return { readyMs, consoleTail };
  } finally {
    await transport.run(sh`test -s ${files.pid} && kill "$(cat ${files.pid})"; rm -f ${files.pid}`);
    if (network !== undefined) await transport.run(sh`ip link del ${network.tap}`);
  }
}
