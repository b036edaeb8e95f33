import type { Duplex } from 'node:stream';
import {
  QmpCommandError,
  QmpDisconnectedError,
  QmpHistoryGapError,
  QmpProtocolError,
  QmpStateError,
  QmpTimeoutError,
  describeCommand,
  type SentCommand,
} from './errors.js';
import { EventWaiter } from './EventWaiter.js';
import { LineSplitter } from './LineSplitter.js';
import { describeEvent, describeMatch, matchesEvent, type EventMatch, type QmpEvent } from './QmpEvent.js';
import { QmpEventListener } from './QmpEventListener.js';
import type { QemuVersion, QmpGreeting } from './QmpGreeting.js';
import { parseQmpMessage, type QmpMessage } from './parseQmpMessage.js';

export type QmpClientState = 'new' | 'opening' | 'open' | 'closed';

export interface QmpClientOptions {
  /** Names the peer in every message: "QMP of hil-r1-src on host-a". */
  readonly where?: string;
  /** Events kept for waitForEvent({since}) and reports. Default 1000. */
  readonly historySize?: number;
  /** Timeout for open() and execute() when the call gives none. Default 30 s. */
  readonly defaultTimeoutMs?: number;
  /** Told about every protocol error (bad JSON, reply for an unknown id, ...); must not throw. */
  readonly onProtocolError?: (error: QmpProtocolError) => void;
}

export interface WaitForEventOptions {
  readonly match?: EventMatch;
  readonly timeoutMs: number;
  /** Also accept an event already received, from this eventCursor value on. */
  readonly since?: number;
}

interface PendingCall {
  readonly sent: SentCommand;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const PROTOCOL_ERRORS_KEPT = 100;
const TIMED_OUT_IDS_KEPT = 1000;

/**
 * A QMP client over any Duplex: an SSH stream-local forward in production, a local unix socket in
 * tests. States: new → opening → open → closed; every call names the state it found if refused.
 */
export class QmpClient {
  readonly where: string;
  private stateValue: QmpClientState = 'new';
  private greetingValue: QmpGreeting | undefined;
  private greetingWait: { resolve: (g: QmpGreeting) => void; reject: (e: Error) => void } | undefined;
  private readonly splitter = new LineSplitter();
  private nextId = 1;
  private readonly pending = new Map<string, PendingCall>();
  private readonly timedOutIds = new Set<string>();
  private readonly historyList: QmpEvent[] = [];
  private nextSeq = 0;
  private readonly listeners = new Set<QmpEventListener>();
  private readonly waiters = new Set<EventWaiter>();
  private readonly protocolErrorList: QmpProtocolError[] = [];
  private lastLine = '(nothing received)';
  private endReason = '';
  private readonly historySize: number;
  private readonly defaultTimeoutMs: number;

  constructor(
    private readonly stream: Duplex,
    private readonly options: QmpClientOptions = {},
  ) {
    this.where = options.where ?? 'QMP peer';
    this.historySize = options.historySize ?? 1000;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
    // From the start and for the stream's whole life: an 'error' with no listener would crash the
    // process; once the client is closed, onEnd ignores it.
    this.stream.on('error', (error: Error) => this.onEnd(`stream error: ${error.message}`, error));
  }

  get state(): QmpClientState {
    return this.stateValue;
  }

  get greeting(): QmpGreeting {
    if (this.greetingValue === undefined) throw new QmpStateError(this.where, 'greeting', this.stateValue, 'open');
    return this.greetingValue;
  }

  /** QEMU's version from the greeting. */
  get qemuVersion(): QemuVersion {
    return this.greeting.version;
  }

  /** Events in the bounded history, oldest first (a copy). */
  get history(): readonly QmpEvent[] {
    return [...this.historyList];
  }

  /** The seq the next event will get: pass it as `since` to look at history from this point. */
  get eventCursor(): number {
    return this.nextSeq;
  }

  get protocolErrors(): readonly QmpProtocolError[] {
    return [...this.protocolErrorList];
  }

  /** Reads the greeting, then negotiates capabilities (none enabled). Closes the client if it fails. */
  async open(options: { readonly timeoutMs?: number } = {}): Promise<QmpGreeting> {
    if (this.stateValue === 'closed' && this.greetingValue === undefined && this.endReason !== '') {
      throw new QmpDisconnectedError(this.where, this.endReason, 'the QMP greeting');
    }
    if (this.stateValue !== 'new') throw new QmpStateError(this.where, 'open', this.stateValue, 'new');
    this.stateValue = 'opening';
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    this.stream.on('data', (chunk: Buffer | string) => this.onData(chunk));
    this.stream.on('end', () => this.onEnd('the peer closed the connection'));
    this.stream.on('close', () => this.onEnd('the stream closed'));
    try {
      const greeting = await this.readGreeting(timeoutMs);
      await this.send({ command: 'qmp_capabilities' }, Math.max(1, deadline - Date.now()));
      this.stateValue = 'open';
      return greeting;
    } catch (error) {
      this.shutdown('open() failed', error);
      throw error;
    }
  }

  /** Runs a command; resolves with its `return` value, rejects with QmpCommandError on `error`. */
  execute<T = unknown>(command: string, args?: Readonly<Record<string, unknown>>, options: { readonly timeoutMs?: number } = {}): Promise<T> {
    if (this.stateValue !== 'open') {
      return Promise.reject(new QmpStateError(this.where, `execute("${command}")`, this.stateValue, 'open'));
    }
    const sent: SentCommand = args === undefined ? { command } : { command, arguments: args };
    return this.send(sent, options.timeoutMs ?? this.defaultTimeoutMs) as Promise<T>;
  }

  /** A new listener; it receives every event from now on in its own queue. */
  listen(label = `listener ${this.listeners.size + 1}`): QmpEventListener {
    if (this.stateValue === 'closed') throw new QmpStateError(this.where, 'listen', this.stateValue, 'new, opening or open');
    const listener = new QmpEventListener(label, this.where, () => this.recentEvents(), (l) => this.listeners.delete(l));
    this.listeners.add(listener);
    return listener;
  }

  /**
   * Arms a wait for an event now. Call it BEFORE the command that causes the event: QEMU may send
   * the event before the command's reply (e.g. RESUME before the reply to `cont`).
   */
  waitForEvent(name: string, options: WaitForEventOptions): EventWaiter {
    if (this.stateValue === 'closed') throw new QmpStateError(this.where, `waitForEvent("${name}")`, this.stateValue, 'new, opening or open');
    const description = describeMatch(name, options.match);
    const waiter = new EventWaiter(
      description,
      (event) => matchesEvent(event, name, options.match),
      { timeoutMs: options.timeoutMs, where: this.where, lastSeen: () => this.recentEvents() },
      (w) => this.waiters.delete(w),
    );
    if (options.since !== undefined) {
      const found = this.historyList.find((event) => event.seq >= options.since! && waiter.offer(event));
      if (found !== undefined) return waiter;
      const oldestKept = this.historyList[0]?.seq ?? this.nextSeq;
      if (options.since < oldestKept) {
        waiter.fail(new QmpHistoryGapError(this.where, description, options.since, oldestKept));
        return waiter;
      }
    }
    this.waiters.add(waiter);
    return waiter;
  }

  /** Ends the connection; pending calls and waits fail with QmpDisconnectedError. Idempotent. */
  async close(): Promise<void> {
    this.shutdown('closed by the client');
  }

  private readGreeting(timeoutMs: number): Promise<QmpGreeting> {
    return new Promise<QmpGreeting>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.greetingWait = undefined;
        reject(new QmpTimeoutError(this.where, 'the QMP greeting', timeoutMs, this.lastLine));
      }, timeoutMs);
      this.greetingWait = {
        resolve: (greeting) => {
          clearTimeout(timer);
          resolve(greeting);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private send(sent: SentCommand, timeoutMs: number): Promise<unknown> {
    const id = `hil-${this.nextId++}`;
    return new Promise<unknown>((resolve, reject) => {
      if (!this.stream.writable) {
        reject(new QmpDisconnectedError(this.where, this.endReason || 'the stream is not writable', `the reply to ${describeCommand(sent)}`, { sent }));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.rememberTimedOut(id);
        reject(new QmpTimeoutError(this.where, `the reply to ${describeCommand(sent)}`, timeoutMs, this.lastLine, sent));
      }, timeoutMs);
      this.pending.set(id, { sent, resolve, reject, timer });
      const message = sent.arguments === undefined ? { execute: sent.command, id } : { execute: sent.command, arguments: sent.arguments, id };
      this.stream.write(`${JSON.stringify(message)}\n`);
    });
  }

  private onData(chunk: Buffer | string): void {
    for (const line of this.splitter.push(chunk)) {
      this.lastLine = line.length > 300 ? `${line.slice(0, 300)}...` : line;
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const message = parseQmpMessage(line);
    if (this.greetingWait !== undefined) {
      const wait = this.greetingWait;
      this.greetingWait = undefined;
      if (message.kind === 'greeting' && message.greeting !== undefined) {
        this.greetingValue = message.greeting;
        wait.resolve(message.greeting);
      } else {
        wait.reject(this.protocolError('expected the QMP greeting {"QMP": {"version": ...}} first', line));
      }
      return;
    }
    switch (message.kind) {
      case 'invalid':
        this.protocolError(message.problem, line);
        return;
      case 'greeting':
        this.protocolError('a second greeting', line);
        return;
      case 'event':
        this.onEvent(message.name, message.data, message.timestampMs);
        return;
      case 'return':
      case 'error':
        this.onReply(message, line);
    }
  }

  private onReply(message: Extract<QmpMessage, { kind: 'return' | 'error' }>, line: string): void {
    const id = message.id;
    const call = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (typeof id !== 'string' || call === undefined) {
      // A reply after our timeout already failed the call: expected, not a protocol error.
      if (typeof id === 'string' && this.timedOutIds.delete(id)) return;
      // QEMU answers input it cannot parse with an error that has no id (JSON parse error).
      this.protocolError(id === undefined ? 'a reply without an id' : `a reply for unknown id ${JSON.stringify(id)}`, line);
      return;
    }
    this.pending.delete(id);
    clearTimeout(call.timer);
    if (message.kind === 'error') call.reject(new QmpCommandError(this.where, call.sent, message.errorClass, message.desc));
    else call.resolve(message.value);
  }

  private onEvent(name: string, data: Readonly<Record<string, unknown>>, timestampMs: number): void {
    const event: QmpEvent = { seq: this.nextSeq++, name, data, timestampMs, receivedAtMs: Date.now() };
    this.historyList.push(event);
    if (this.historyList.length > this.historySize) this.historyList.shift();
    for (const listener of this.listeners) listener.deliver(event);
    for (const waiter of [...this.waiters]) waiter.offer(event);
  }

  private onEnd(reason: string, cause?: unknown): void {
    if (this.stateValue === 'closed') return;
    const rest = this.splitter.finish();
    if (rest.trim() !== '') this.protocolError('the connection ended in the middle of a line', rest);
    this.shutdown(reason, cause);
  }

  private shutdown(reason: string, cause?: unknown): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.endReason = reason;
    const makeError = (waitingFor: string, sent?: SentCommand) =>
      new QmpDisconnectedError(this.where, reason, waitingFor, sent === undefined ? { cause } : { cause, sent });
    if (this.greetingWait !== undefined) {
      this.greetingWait.reject(makeError('the QMP greeting'));
      this.greetingWait = undefined;
    }
    for (const [id, call] of this.pending) {
      this.pending.delete(id);
      clearTimeout(call.timer);
      call.reject(makeError(`the reply to ${describeCommand(call.sent)}`, call.sent));
    }
    for (const waiter of [...this.waiters]) waiter.fail(makeError(waiter.description));
    for (const listener of this.listeners) listener.end((waitingFor) => makeError(waitingFor));
    this.stream.destroy();
  }

  private protocolError(problem: string, line: string): QmpProtocolError {
    const error = new QmpProtocolError(this.where, problem, line);
    this.protocolErrorList.push(error);
    if (this.protocolErrorList.length > PROTOCOL_ERRORS_KEPT) this.protocolErrorList.shift();
    this.options.onProtocolError?.(error);
    return error;
  }

  private rememberTimedOut(id: string): void {
    this.timedOutIds.add(id);
    if (this.timedOutIds.size > TIMED_OUT_IDS_KEPT) {
      const oldest = this.timedOutIds.values().next().value;
      if (oldest !== undefined) this.timedOutIds.delete(oldest);
    }
  }

  private recentEvents(): string {
    const recent = this.historyList.slice(-3).map(describeEvent);
    const events = recent.length === 0 ? 'no events' : `events ${recent.join(', ')}`;
    return this.stateValue === 'closed' ? `${events} (connection ended: ${this.endReason})` : events;
  }
}
