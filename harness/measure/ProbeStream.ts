import { createSocket, type Socket } from 'node:dgram';
import { HarnessError } from '../errors.js';
import { controllerNowMs } from '../host/measureClockOffset.js';
import type { OutageReport } from '../migration/MigrationRecord.js';

/** Datagram layout: "HILP", u32 sequence, f64 send time (controller ms). The echo returns it as is. */
const MAGIC = 0x48494c50;
const PACKET_BYTES = 16;

export interface ProbeReply {
  readonly seq: number;
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
}

/**
 * A sequence-numbered UDP stream to the guest's echo responder. Sends are paced against a fixed
 * schedule (start + n·period), so timer jitter delays a packet but never drops the rate.
 */
export class ProbeStream {
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextSeq = 0;
  private startedAtMs = 0;
  private readonly sentAtMs: number[] = [];
  private readonly replies: ProbeReply[] = [];
  private readonly seen = new Set<number>();

  constructor(readonly target: { readonly address: string; readonly port: number }, readonly rateHz: number) {
    if (!(rateHz >= 1 && rateHz <= 1000)) throw new HarnessError('PROBE_RATE', `probe rate must be 1-1000 Hz, got ${rateHz}`);
  }

  get isRunning(): boolean {
    return this.timer !== null;
  }

  async start(): Promise<void> {
    if (this.socket !== null) throw new HarnessError('PROBE_STATE', 'ProbeStream.start() called twice');
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (message) => this.onMessage(message));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => resolve());
    });
    this.startedAtMs = controllerNowMs();
    this.schedule();
  }

  private schedule(): void {
    const periodMs = 1000 / this.rateHz;
    const tick = (): void => {
      const now = controllerNowMs();
      while (this.startedAtMs + this.nextSeq * periodMs <= now) this.send();
      const dueInMs = this.startedAtMs + this.nextSeq * periodMs - controllerNowMs();
      this.timer = setTimeout(tick, Math.max(0, dueInMs));
    };
    tick();
  }

  private send(): void {
    const packet = Buffer.alloc(PACKET_BYTES);
    const sentAtMs = controllerNowMs();
    packet.writeUInt32BE(MAGIC, 0);
    packet.writeUInt32BE(this.nextSeq, 4);
    packet.writeDoubleBE(sentAtMs, 8);
    this.sentAtMs.push(sentAtMs);
    this.nextSeq += 1;
    // A send error (e.g. no route while the guest moves) is a lost probe, which is what we measure.
    this.socket?.send(packet, this.target.port, this.target.address, () => undefined);
  }

  private onMessage(message: Buffer): void {
    if (message.length !== PACKET_BYTES || message.readUInt32BE(0) !== MAGIC) return;
    const seq = message.readUInt32BE(4);
    if (this.seen.has(seq)) return;
    this.seen.add(seq);
    this.replies.push({ seq, sentAtMs: message.readDoubleBE(8), receivedAtMs: controllerNowMs() });
  }

  /** Resolves at the first reply received after now; rejects with what was seen at the deadline. */
  async waitForReply(timeoutMs: number): Promise<ProbeReply> {
    const from = this.replies.length;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const reply = this.replies[from];
      if (reply !== undefined) return reply;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new HarnessError('PROBE_NO_REPLY', `No echo reply from ${this.target.address}:${this.target.port} within ${timeoutMs} ms (${this.sentAtMs.length} sent, ${this.replies.length} replies so far)`);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket !== null) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  get allReplies(): readonly ProbeReply[] {
    return this.replies;
  }

  /**
   * The outage inside [fromMs, toMs] (controller clock): longest gap between consecutive replies,
   * with the window's edges counting as replies so a stream that stops at the end still shows.
   */
  outage(fromMs: number, toMs: number): OutageReport {
    const sentInWindow = this.sentAtMs.filter((t) => t >= fromMs && t <= toMs);
    const received = this.replies.filter((r) => r.sentAtMs >= fromMs && r.sentAtMs <= toMs);
    const times = received.map((r) => r.receivedAtMs).sort((a, b) => a - b);
    let longest = 0;
    let gapStartMs: number | null = null;
    let gapEndMs: number | null = null;
    const edges = [fromMs, ...times, Math.max(toMs, times[times.length - 1] ?? toMs)];
    for (let i = 1; i < edges.length; i++) {
      const gap = edges[i]! - edges[i - 1]!;
      if (gap > longest) {
        longest = gap;
        gapStartMs = edges[i - 1]!;
        gapEndMs = edges[i]!;
      }
    }
    return {
      guestOutageMs: Math.round(longest * 1000) / 1000,
      gapStartMs, gapEndMs,
      sent: sentInWindow.length,
      received: received.length,
      lost: sentInWindow.length - received.length,
      rateHz: this.rateHz,
      replyTimesMs: times,
    };
  }
}
