import { HarnessError } from '../errors.js';
import type { CommandRunner } from '../runner.js';

const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The guest kernel's boot id: the same value after a migration proves the guest was not rebooted. */
export async function readBootId(guest: CommandRunner, timeoutMs = 30_000): Promise<string> {
  const result = await guest.run('cat /proc/sys/kernel/random/boot_id', { timeoutMs });
  // A kernel message can share the console with the output: take the one line that is an id.
  const ids = result.stdout.split('\n').map((line) => line.trim()).filter((line) => BOOT_ID.test(line));
  const id = ids[0] ?? '';
  if (result.exitCode !== 0 || ids.length !== 1) {
    throw new HarnessError('GUEST_BOOT_ID', `Could not read the boot id over ${guest.where}: exit ${result.exitCode}, output "${result.stdout.trim().slice(-200)}"`);
  }
  return id;
}
