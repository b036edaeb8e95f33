import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { waitFor } from '../waitFor.js';

const OPEN_STATES = ['established', 'fin-wait-1', 'fin-wait-2', 'close-wait', 'last-ack', 'closing', 'syn-sent'];

/**
 * Waits until the controller has no TCP connection left to port 22 of these addresses.
 * SshTransport.close() half-closes (ssh2 `end()`) and returns before the server's FIN: an L1
 * stopped right after would never send it, and the socket would keep the process alive forever.
 */
export async function waitForSshSessionsClosed(runner: CommandRunner, addresses: readonly string[], timeoutMs = 15_000): Promise<void> {
  const filter = addresses.map((a) => `dst ${a}`).join(' or ');
  await waitFor(
    `the controller's SSH connections to ${addresses.join(', ')} to close`,
    async () => {
      // Every state in which a process still holds the socket: a FIN we sent and the L1 has not
      // acknowledged yet (FIN-WAIT-1) counts as much as an open session.
      const open = (await runChecked(runner, sh`ss -Htn ${OPEN_STATES.flatMap((s) => ['state', s])} ${`( dport = :22 ) and ( ${filter} )`}`)).stdout.trim();
      return open === '' ? { isDone: true, value: undefined } : { isDone: false, seen: open.split('\n').slice(0, 3).join('; ') };
    },
    { timeoutMs, intervalMs: 100 },
  );
}
