import { QmpStateError, QmpTimeoutError } from './errors.js';
import type { QmpEvent } from './QmpEvent.js';

interface Taker {
  readonly resolve: (event: QmpEvent) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One consumer's view of the event stream: every event the client receives after the listener
 * was made is queued here until taken (design.md §4: QMP never drops events). The queue is not
 * bounded, so close a listener you no longer read.
 */
export class QmpEventListener {
  private readonly queue: QmpEvent[] = [];
  private readonly takers: Taker[] = [];
  private ended: { readonly makeError: (waitingFor: string) => Error } | undefined;
  private isClosedByOwner = false;

  constructor(
    readonly label: string,
    private readonly where: string,
    private readonly lastSeen: () => string,
    private readonly detach: (listener: QmpEventListener) => void,
  ) {}

  /** Events queued and not yet taken. */
  get size(): number {
    return this.queue.length;
  }

  /** The next event (queued or future). After a disconnect, queued events still come first. */
  next(options: { readonly timeoutMs: number }): Promise<QmpEvent> {
    if (this.isClosedByOwner) return Promise.reject(new QmpStateError(this.where, `listener("${this.label}").next`, 'closed', 'open'));
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    const waitingFor = `the next event on listener "${this.label}"`;
    if (this.ended !== undefined) return Promise.reject(this.ended.makeError(waitingFor));
    return new Promise<QmpEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.takers.indexOf(taker);
        if (index >= 0) this.takers.splice(index, 1);
        reject(new QmpTimeoutError(this.where, waitingFor, options.timeoutMs, this.lastSeen()));
      }, options.timeoutMs);
      const taker: Taker = { resolve, reject, timer };
      this.takers.push(taker);
    });
  }

  /** Takes every queued event at once. */
  drain(): QmpEvent[] {
    return this.queue.splice(0, this.queue.length);
  }

  /** Stops receiving; pending next() calls fail. Idempotent. */
  close(): void {
    if (this.isClosedByOwner) return;
    this.isClosedByOwner = true;
    this.detach(this);
    for (const taker of this.takers.splice(0)) {
      clearTimeout(taker.timer);
      taker.reject(new QmpStateError(this.where, `listener("${this.label}").next`, 'closed', 'open'));
    }
  }

  /** @internal Called by QmpClient for each event. */
  deliver(event: QmpEvent): void {
    const taker = this.takers.shift();
    if (taker !== undefined) {
      clearTimeout(taker.timer);
      taker.resolve(event);
    } else {
      this.queue.push(event);
    }
  }

  /** @internal Called by QmpClient when the connection ends. */
  end(makeError: (waitingFor: string) => Error): void {
    if (this.ended !== undefined) return;
    this.ended = { makeError };
    for (const taker of this.takers.splice(0)) {
      clearTimeout(taker.timer);
      taker.reject(makeError(`the next event on listener "${this.label}"`));
    }
  }
}
