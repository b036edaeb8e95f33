import { connect, type Socket } from 'node:net';
import type { UnixSocketOpener } from './openListeningSocket.js';

/** Opens unix sockets on the controller itself: the LocalRunner counterpart of SshTransport.openUnixSocket. */
export class LocalUnixSockets implements UnixSocketOpener {
  openUnixSocket(path: string): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }
}
