import type { Duplex } from 'node:stream';
import { SshError } from '../ssh/SshError.js';
import { waitFor } from '../waitFor.js';

/** Opens a Unix socket on the VM's host: through SSH's stream-local forward, or locally. */
export interface UnixSocketOpener {
  openUnixSocket(remotePath: string): Promise<Duplex>;
}

/**
 * A connect refused at a socket file that exists: through SSH, sshd's "Channel open failure"
 * for the stream-local forward; on this machine, ECONNREFUSED.
 */
export function isConnectRefused(error: unknown): boolean {
  if (error instanceof SshError) return error.code === 'SSH_FORWARD';
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
}

/**
 * Opens QEMU's QMP socket once it listens. QEMU binds the socket's file before it calls listen()
 * on it (util/qemu-sockets.c), so the file can be there while a connect is still refused; on a
 * slow host QEMU can be descheduled in between. A refused connect is tried again while
 * `isAlive` says QEMU runs, until the deadline; then the last refusal is what the caller gets.
 */
export async function openListeningSocket(sockets: UnixSocketOpener, path: string, isAlive: () => Promise<boolean>, timeoutMs: number): Promise<Duplex> {
  let lastRefusal: unknown;
  return waitFor(`QEMU to listen on ${path}`, async () => {
    try {
      return { isDone: true, value: await sockets.openUnixSocket(path) };
    } catch (error) {
      if (!isConnectRefused(error) || !(await isAlive())) throw error;
      lastRefusal = error;
      return { isDone: false, seen: (error as Error).message };
    }
  }, { timeoutMs, intervalMs: 100, onTimeout: () => lastRefusal as Error });
}
