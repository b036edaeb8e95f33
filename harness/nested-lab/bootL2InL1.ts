import type { GuestImageSpec } from '../config/types.js';
import type { SshTransport } from '../ssh/SshTransport.js';
import { L2SmokeVm, type L2SmokeVmOptions } from './L2SmokeVm.js';

export interface L2BootOptions extends Omit<L2SmokeVmOptions, 'name' | 'incomingPort'> {
  readonly timeoutMs: number;
  /** Runs once the console says ready, before the L2 is stopped (a probe from the controller). */
  readonly whileRunning?: () => Promise<void>;
}

export interface L2BootResult {
  /** From launching QEMU in the L1 to "hil: ready" on the L2's serial console. */
  readonly readyMs: number;
  readonly consoleTail: string;
}

/** The init's ready line (guest/init.sh): stable wording the harness keys on. */
export const L2_READY = 'hil: ready';

/**
 * Boots the lab's L2 guest image inside an L1 host and waits for its ready line: proof that the
 * nested lab can run a guest, and the figure for kvm-in-L1 against TCG. The L2 is stopped before
 * this returns.
 */
export async function bootL2InL1(transport: SshTransport, guest: GuestImageSpec, options: L2BootOptions): Promise<L2BootResult> {
  const vm = new L2SmokeVm(transport, guest, { ...options, name: `l2smoke-${options.accelerator}` });
  await vm.launch();
  const startedAt = Date.now();
  try {
    const consoleTail = await vm.waitForConsole(L2_READY, options.timeoutMs);
    const readyMs = Date.now() - startedAt;
    if (options.whileRunning !== undefined) await options.whileRunning();
    return { readyMs, consoleTail };
  } finally {
    await vm.stop();
  }
}
