import { QmpError, QmpTimeoutError } from './errors.js';
import type { QmpEvent } from './QmpEvent.js';

type Outcome = { readonly event: QmpEvent } | { readonly error: Error };

/**
 * A wait for one event, armed when created (before the command that causes the event is sent).
 * Await it (it is PromiseLike) or call cancel(). The promise is only made when someone awaits, so
 * an armed wait that is abandoned (its command failed first) never becomes an unhandled rejection.
 */
export class EventWaiter implements PromiseLike<QmpEvent> {
  private outcome: Outcome | undefined;
  private settlers: { resolve: (event: QmpEvent) => void; reject: (error: Error) => void } | undefined;
  private promise: Promise<QmpEvent> | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    /** "event MIGRATION with data {"status":"completed"}": used in every error about this wait. */
    readonly description: string,
    private readonly accepts: (event: QmpEvent) => boolean,
    timeout: { readonly timeoutMs: number; readonly where: string; readonly lastSeen: () => string },
    private readonly onSettled: (waiter: EventWaiter) => void,
  ) {
    if (Number.isFinite(timeout.timeoutMs)) {
      this.timer = setTimeout(() => {
        this.settle({ error: new QmpTimeoutError(timeout.where, this.description, timeout.timeoutMs, timeout.lastSeen()) });
      }, timeout.timeoutMs);
    }
  }

  get isSettled(): boolean {
    return this.outcome !== undefined;
  }

  /** The event that satisfied the wait, once it has; undefined before or after a failure. */
  get event(): QmpEvent | undefined {
    return this.outcome !== undefined && 'event' in this.outcome ? this.outcome.event : undefined;
  }

  /** Offers an event; returns true if it satisfied this wait. */
  offer(event: QmpEvent): boolean {
    if (this.outcome !== undefined || !this.accepts(event)) return false;
    this.settle({ event });
    return true;
  }

  fail(error: Error): void {
    this.settle({ error });
  }

  /** Stop waiting. If someone awaits it, they get a QMP_WAIT_CANCELLED error. */
  cancel(): void {
    this.settle({ error: new QmpError('QMP_WAIT_CANCELLED', `The wait for ${this.description} was cancelled`, { data: { waitingFor: this.description } }) });
  }

  then<A = QmpEvent, B = never>(
    onFulfilled?: ((event: QmpEvent) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.asPromise().then(onFulfilled, onRejected);
  }

  asPromise(): Promise<QmpEvent> {
    if (this.promise === undefined) {
      const outcome = this.outcome;
      if (outcome !== undefined) {
        this.promise = 'event' in outcome ? Promise.resolve(outcome.event) : Promise.reject(outcome.error);
      } else {
        this.promise = new Promise<QmpEvent>((resolve, reject) => {
          this.settlers = { resolve, reject };
        });
      }
    }
    return this.promise;
  }

  private settle(outcome: Outcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.settlers !== undefined) {
      if ('event' in outcome) this.settlers.resolve(outcome.event);
      else this.settlers.reject(outcome.error);
    }
    this.onSettled(this);
  }
}
