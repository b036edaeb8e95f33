import { HarnessError } from '../../harness/errors.js';
import type { CommandRunner } from '../../harness/runner.js';

export interface GuestDirtierOptions {
  /** The tmpfs file rewritten in a ring: the most RAM that can be dirty at once. */
  readonly workingSetMiB: number;
  /** Pause after each 1 MiB write; with the write itself this sets the rate (at most 1 MiB per pause). */
  readonly pauseUs: number;
}

const DIR = '/run/hil-dirty';

/**
 * Makes the guest dirty its RAM at a steady rate, in busybox shell (the guest image has nothing
 * else for it): a working set in tmpfs, rewritten 1 MiB at a time in a ring with a pause after
 * each write. The bytes are not zero, so QEMU sends every dirtied page in full (a zero page
 * costs a few bytes and would hide the rate). The loop runs in the background of the guest
 * and migrates with it; QEMU's own ram.dirty-pages-rate says what rate it reached.
 */
export async function startGuestDirtier(guest: CommandRunner, options: GuestDirtierOptions): Promise<void> {
  const mib = options.workingSetMiB;
  const setup = [
    `mkdir -p ${DIR}`,
    `head -c 1048576 /dev/zero | tr '\\000' 'd' > ${DIR}/src`,
    `dd if=/dev/zero bs=1048576 count=${mib} 2>/dev/null | tr '\\000' 'w' > ${DIR}/ws`,
    // "&" ends the statement itself: "&;" is a syntax error in ash.
    // 64 KiB blocks: dd's own buffer is fresh memory in every run and would double the rate at 1 MiB.
    `(i=0; while :; do dd if=${DIR}/src of=${DIR}/ws bs=65536 seek=$((i * 16)) count=16 conv=notrunc 2>/dev/null; i=$(( (i + 1) % ${mib} )); usleep ${options.pauseUs}; done) </dev/null >/dev/null 2>&1 & echo $! > ${DIR}/pid`,
    `wc -c < ${DIR}/ws`,
  ].join('; ');
  const result = await guest.run(setup, { timeoutMs: 120_000 });
  const size = Number(result.stdout.trim().split('\n').pop());
  if (result.exitCode !== 0 || size !== mib * 1048576) {
    throw new HarnessError('GUEST_DIRTIER', `Could not start the memory dirtier over ${guest.where}: exit ${result.exitCode}, working set ${size} bytes of ${mib * 1048576} expected; output "${result.stdout.trim().slice(-200)}". The guest needs ${mib} MiB free in /run (tmpfs).`);
  }
}
