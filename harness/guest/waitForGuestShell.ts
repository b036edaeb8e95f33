import type { GuestConsole } from '../console/GuestConsole.js';
import { CONSOLE_RAW_MARKER } from '../console/sshConsoleArgv.js';
import { errorMessage, HarnessError } from '../errors.js';
import { waitFor } from '../waitFor.js';

export interface WaitForShellOptions {
  /** Checked before each try: an error to end the wait with (e.g. the guest reset itself), or null. */
  readonly whyAbandon?: () => Error | null;
  /** The error for a shell that did not answer in time (default: waitFor's WAIT_TIMEOUT). */
  readonly onTimeout?: (what: string, timeoutMs: number, lastSeen: string) => Error;
}

/**
 * Waits until the guest's console shell answers a command. For VMs without a probe stream (the
 * VFIO scenarios give the guest no lab network): characters typed before the guest's serial port
 * is open are lost, so each try is a fresh short command with its own markers; every try after
 * the first starts with a Ctrl-C: a try that lost some characters (a quote among them) leaves the
 * shell in a continued line, where every later try would be taken as more of it. Nothing is typed
 * before the attach command says the remote pty is raw (CONSOLE_RAW_MARKER): until then a Ctrl-C
 * is a SIGINT that ends the attach, which a host slow to start the attach (a loaded nested-lab
 * L1) made happen. A console whose attach command ended ends the wait at once.
 */
export async function waitForGuestShell(guest: Pick<GuestConsole, 'run' | 'write' | 'where' | 'expect'>, timeoutMs: number, options: WaitForShellOptions = {}): Promise<void> {
  let tries = 0;
  let isRaw = false;
  await waitFor(`the guest shell over ${guest.where}`, async () => {
    const abandoned = options.whyAbandon?.() ?? null;
    if (abandoned !== null) throw abandoned;
    if (!isRaw) {
      try {
        await guest.expect(CONSOLE_RAW_MARKER, 3000);
        isRaw = true;
      } catch (error) {
        if (error instanceof HarnessError && error.code === 'CONSOLE_CLOSED') throw error;
        return { isDone: false, seen: `the console attach has not made the remote pty raw yet (${errorMessage(error).slice(0, 120)})` };
      }
    }
    if (tries++ > 0) guest.write('\x03');
    try {
      const result = await guest.run('echo hil-shell-ok', { timeoutMs: 3000 });
      return result.stdout.includes('hil-shell-ok') ? { isDone: true, value: undefined } : { isDone: false, seen: result.stdout.slice(-200) };
    } catch (error) {
      if (error instanceof HarnessError && error.code === 'CONSOLE_CLOSED') throw error;
      return { isDone: false, seen: errorMessage(error).slice(0, 200) };
    }
  }, { timeoutMs, intervalMs: 0, ...(options.onTimeout !== undefined ? { onTimeout: options.onTimeout } : {}) });
}
