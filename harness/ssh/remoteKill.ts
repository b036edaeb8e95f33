import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { SshError } from './SshError.js';
import type { SshConnection } from './SshConnection.js';
import { openExecChannel } from './openChannel.js';

/**
 * Stopping a remote command. The SSH "signal" channel request is the protocol's way, but OpenSSH
 * (9.2 at least) refuses it for root sessions ("session signalling requires privilege
 * separation": sshd drops privsep after a root login), and the lab logs in as root. So every
 * command the transport starts begins with a marker, and a kill also runs a second command that
 * finds the marked session and signals it: the login shell is found by its command line (set at
 * exec, so even while it still reads its rc files), its process group with it, and anything that
 * left the group by the marker in its inherited environment.
 */
export const RUN_MARKER_VARIABLE = 'HIL_SSH_RUN';

export function newRunId(): string {
  return randomBytes(8).toString('hex');
}

/** The command as sent: the marker exported first, then the command exactly as given. */
export function markedCommand(command: string, runId: string): string {
  return `${RUN_MARKER_VARIABLE}=${runId}; export ${RUN_MARKER_VARIABLE}; ${command}`;
}

/**
 * Signals the processes of a marked command: over the channel (works for non-root sessions) and
 * through a second exec that finds them by the marker. Resolves with how many the second exec
 * signalled; never rejects, because it is itself the clean-up after a failure.
 */
export async function killMarkedCommand(connection: SshConnection, where: string, channel: ClientChannel, runId: string, signalName: string, timeoutMs = 5_000): Promise<number> {
  sendSignal(channel, signalName);
  if (!/^[A-Z0-9]+$/.test(signalName) || !/^[0-9a-f]+$/.test(runId)) return 0;
  const marker = `${RUN_MARKER_VARIABLE}=${runId}`;
  // One grep per kind of file, not per process: a busy host has hundreds of processes. Neither
  // grep matches itself: its own command line holds the pattern only after a '^', or not at all.
  const script =
    `n=0; for p in $({ grep -lzxF '${marker}' /proc/[0-9]*/environ; grep -lz '^${marker}; export' /proc/[0-9]*/cmdline; } 2>/dev/null | cut -d/ -f3 | sort -u); do ` +
    // Counted once a process whichever kill reached it: after its group's signal it may be gone
    // (and reaped) before a second kill of its own, which then fails though it was signalled.
    `if kill -s ${signalName} -- "-$p" 2>/dev/null; then n=$((n+1)); elif kill -s ${signalName} "$p" 2>/dev/null; then n=$((n+1)); fi; ` +
    `done; echo $n`;
  let killer: ClientChannel;
  try {
    killer = (await openExecChannel(connection, where, script)).channel;
  } catch (error) {
    // No channel to kill with (connection gone, or out of sessions): the channel signal is all
    // we had, and the caller reports the command as not confirmed gone.
    if (error instanceof SshError) return 0;
    throw error;
  }
  return new Promise((resolve) => {
    const output: Buffer[] = [];
    // A host whose login shell hangs (a slow rc file) must not hang the caller's clean-up too.
    const deadline = setTimeout(() => {
      killer.close();
      resolve(0);
    }, timeoutMs);
    killer.on('data', (chunk: Buffer) => output.push(chunk));
    killer.stderr.resume();
    killer.on('close', () => {
      clearTimeout(deadline);
      resolve(Number.parseInt(Buffer.concat(output).toString('utf8'), 10) || 0);
    });
    killer.end();
  });
}

type ChannelInternals = {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (channelId: number, signalName: string) => void } };
};

/**
 * RFC 4254 §6.9 allows a "signal" request after we sent EOF, but ssh2 1.17's Channel.signal()
 * silently drops it once the channel is no longer writable, and run() always sends EOF (the
 * command must see the end of its stdin). So the request goes to ssh2's protocol layer directly,
 * falling back to the public call if those internals ever change shape.
 */
export function sendSignal(channel: ClientChannel, signalName: string): void {
  const internals = channel as unknown as ChannelInternals;
  const id = internals.outgoing?.id;
  const state = internals.outgoing?.state;
  const protocol = internals._client?._protocol;
  if (typeof id === 'number' && (state === 'open' || state === 'eof') && typeof protocol?.signal === 'function') {
    protocol.signal(id, signalName);
  } else {
    channel.signal(signalName);
  }
}
