import { HarnessError } from '../errors.js';
import type { CommandRunner } from '../runner.js';

/** The guest kernel's boot id: the same value after a migration proves the guest was not rebooted. */
export async function readBootId(guest: CommandRunner, timeoutMs = 30_000): Promise<string> {
  const result = await guest.run('cat /proc/sys/kernel/random/boot_id', { timeoutMs });
  const id = result.stdout.trim().split('\n').pop()?.trim() ?? '';
  if (result.exitCode !== 0 || !/^[0-9a-f-]{36}$/.test(id)) {
    throw new HarnessError('GUEST_BOOT_ID', `Could not read the boot id over ${guest.where}: exit ${result.exitCode}, output "${result.stdout.trim().slice(-200)}"`);
  }
  return id;
}
