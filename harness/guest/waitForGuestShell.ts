import type { GuestConsole } from '../console/GuestConsole.js';
import { errorMessage } from '../errors.js';
import { waitFor } from '../waitFor.js';

/**
 * Waits until the guest's console shell answers a command. For VMs without a probe stream (the
 * VFIO scenarios give the guest no lab network): characters typed before the guest's serial port
 * is open are lost, so each try is a fresh short command with its own markers, after a Ctrl-C:
 * a try that lost some characters (a quote among them) leaves the shell in a continued line,
 * where every later try would be taken as more of it.
 */
export async function waitForGuestShell(guest: Pick<GuestConsole, 'run' | 'write' | 'where'>, timeoutMs: number): Promise<void> {
  await waitFor(`the guest shell over ${guest.where}`, async () => {
    try {
      guest.write('\x03');
      const result = await guest.run('echo hil-shell-ok', { timeoutMs: 3000 });
      return result.stdout.includes('hil-shell-ok') ? { isDone: true, value: undefined } : { isDone: false, seen: result.stdout.slice(-200) };
    } catch (error) {
      return { isDone: false, seen: errorMessage(error).slice(0, 200) };
    }
  }, { timeoutMs, intervalMs: 0 });
}
