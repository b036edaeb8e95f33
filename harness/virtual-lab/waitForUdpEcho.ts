import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { VirtualLabError } from './VirtualLabError.js';

export interface UdpEchoReply {
  /** From the first datagram sent to the reply that echoed it back. */
  readonly elapsedMs: number;
  readonly datagramsSent: number;
  /** Round trip of the datagram that was answered. */
  readonly roundTripMs: number;
}

/**
 * Sends a datagram with a fresh nonce every `intervalMs` until one comes back byte for byte.
 * Used to tell when a freshly booted guest answers on the lab network.
 */
export function waitForUdpEcho(target: { address: string; port: number }, options: { timeoutMs: number; intervalMs?: number }): Promise<UdpEchoReply> {
  const intervalMs = options.intervalMs ?? 100;
  const socket = createSocket('udp4');
  const startedAt = performance.now();
  const sentAt = new Map<string, number>();
  let datagramsSent = 0;
  let lastError = 'no reply';
  return new Promise<UdpEchoReply>((resolve, reject) => {
    const finish = (outcome: () => void): void => {
      clearInterval(ticker);
      clearTimeout(deadline);
      socket.close();
      outcome();
    };
    const send = (): void => {
      const payload = `hil-echo-check ${randomBytes(8).toString('hex')}`;
      sentAt.set(payload, performance.now());
      datagramsSent += 1;
      socket.send(payload, target.port, target.address, (error) => {
        // EHOSTUNREACH while ARP for the guest fails is expected until it is up.
        if (error !== null && error !== undefined) lastError = error.message;
      });
    };
    socket.on('message', (message) => {
      const sent = sentAt.get(message.toString('latin1'));
      if (sent === undefined) return;
      const now = performance.now();
      finish(() => resolve({ elapsedMs: now - startedAt, datagramsSent, roundTripMs: now - sent }));
    });
    socket.on('error', (error) => {
      lastError = error.message;
    });
    const ticker = setInterval(send, intervalMs);
    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(
            new VirtualLabError('LAB_ECHO_TIMEOUT', `No UDP echo from ${target.address}:${target.port} within ${options.timeoutMs} ms (${datagramsSent} datagrams sent; last: ${lastError})`, {
              data: { ...target, timeoutMs: options.timeoutMs, datagramsSent, lastError },
            }),
          ),
        ),
      options.timeoutMs,
    );
    send();
  });
}
