import { HarnessError } from '../errors.js';

/** Every error raised by the QMP client. `where` says which QMP peer ("QMP of hil-r1-src on host-a"). */
export class QmpError extends HarnessError {}

/** What was sent, kept on every error about a command so a report can show it. */
export interface SentCommand {
  readonly command: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
}

export function describeCommand(sent: SentCommand): string {
  return sent.arguments === undefined ? sent.command : `${sent.command} ${JSON.stringify(sent.arguments)}`;
}

/** QEMU answered a command with {"error": {"class", "desc"}}. */
export class QmpCommandError extends QmpError {
  readonly errorClass: string;
  readonly desc: string;
  readonly sent: SentCommand;

  constructor(where: string, sent: SentCommand, errorClass: string, desc: string) {
    super('QMP_COMMAND_FAILED', `QMP command ${describeCommand(sent)} failed on ${where}: ${errorClass}: ${desc}`, {
      data: { where, command: sent.command, arguments: sent.arguments, errorClass, desc },
    });
    this.errorClass = errorClass;
    this.desc = desc;
    this.sent = sent;
  }
}

/** The connection ended (peer closed, socket error, or close() called) while something waited on it. */
export class QmpDisconnectedError extends QmpError {
  constructor(where: string, reason: string, waitingFor: string, options: { cause?: unknown; sent?: SentCommand } = {}) {
    super('QMP_DISCONNECTED', `QMP connection to ${where} ended (${reason}) while waiting for ${waitingFor}`, {
      cause: options.cause,
      data: { where, reason, waitingFor, command: options.sent?.command, arguments: options.sent?.arguments },
    });
  }
}

export class QmpTimeoutError extends QmpError {
  constructor(where: string, waitingFor: string, timeoutMs: number, lastSeen: string, sent?: SentCommand) {
    super('QMP_TIMEOUT', `Timed out after ${timeoutMs} ms on ${where} waiting for ${waitingFor}; last seen: ${lastSeen}`, {
      data: { where, waitingFor, timeoutMs, lastSeen, command: sent?.command, arguments: sent?.arguments },
    });
  }
}

/** The peer sent something QMP does not allow here: not JSON, no greeting, a reply nobody asked for. */
export class QmpProtocolError extends QmpError {
  constructor(where: string, problem: string, line: string) {
    super('QMP_PROTOCOL', `QMP protocol error from ${where}: ${problem}: ${line.length > 500 ? `${line.slice(0, 500)}...` : line}`, {
      data: { where, problem, line },
    });
  }
}

/** A call made in a lifecycle state that does not allow it. */
export class QmpStateError extends QmpError {
  constructor(where: string, call: string, state: string, expected: string) {
    super('QMP_WRONG_STATE', `QmpClient.${call}() on ${where} needs state ${expected}, but the client is ${state}`, {
      data: { where, call, state, expected },
    });
  }
}

/** waitForEvent({since}) asked for events the bounded history no longer holds. */
export class QmpHistoryGapError extends QmpError {
  constructor(where: string, waitingFor: string, since: number, oldestKept: number) {
    super(
      'QMP_HISTORY_GAP',
      `Cannot look for ${waitingFor} on ${where} since event #${since}: the history now starts at #${oldestKept}. ` +
        'Arm the wait earlier or raise historySize.',
      { data: { where, waitingFor, since, oldestKept } },
    );
  }
}
