import type { ClientChannel } from 'ssh2';
import { SshError } from './SshError.js';
import type { SshConnection } from './SshConnection.js';

/**
 * The error every operation reports when the connection went away under it. `when` completes the
 * sentence: "during exec of: uptime", "before run(); ...", or '' for the drop itself.
 */
export function disconnectedError(where: string, when: string, cause?: unknown): SshError {
  const reason = cause instanceof Error ? ` (${cause.message})` : '';
  return new SshError('SSH_DISCONNECTED', `SSH connection to ${where} dropped${when === '' ? '' : ` ${when}`}${reason}`, { cause, data: { where, phase: 'connection', when } });
}

/** The error for an operation whose connection is gone: dropped, or ended by close(). */
export function connectionGoneError(connection: SshConnection, where: string, when: string, cause?: unknown): SshError {
  if (!connection.wasClosedByUs) return disconnectedError(where, when, cause);
  return new SshError('SSH_DISCONNECTED', `SSH connection to ${where} was closed by SshTransport.close() ${when}`, { cause, data: { where, phase: 'connection', when, isClosedByUs: true } });
}

export interface ExitStatus {
  readonly exitCode: number | null;
  /** Set when the command died from a signal ("KILL", "TERM", ...). */
  readonly signal: string | null;
}

export interface ExecChannel {
  readonly channel: ClientChannel;
  /** The exit status once the host has sent it. */
  exitStatus(): ExitStatus | undefined;
}

/**
 * Starts `command` in a new session channel (no pty, so stdout and stderr stay apart). The exit
 * status is recorded from the moment the channel opens: ssh2 emits 'exit' as the packet arrives,
 * which for a quick command can be before the caller's continuation gets to listen.
 */
export function openExecChannel(connection: SshConnection, where: string, command: string): Promise<ExecChannel> {
  return new Promise((resolve, reject) => {
    if (!connection.isOpen) {
      reject(connectionGoneError(connection, where, `during exec of: ${command}`));
      return;
    }
    connection.client.exec(command, (error, channel) => {
      if (error === undefined || error === null) {
        let status: ExitStatus | undefined;
        channel.on('exit', (code: number | null, signal?: string) => {
          status = { exitCode: code, signal: code === null && signal !== undefined ? signal.replace(/^SIG/, '') : null };
        });
        resolve({ channel, exitStatus: () => status });
      } else if (!connection.isOpen) {
        reject(connectionGoneError(connection, where, `during exec of: ${command}`, error));
      } else {
        // Typically sshd's MaxSessions (10 channels per connection) or a refused session.
        reject(new SshError('SSH_EXEC', `SSH exec on ${where} could not start the command (${error.message}): ${command}`, { cause: error, data: { where, phase: 'exec', command } }));
      }
    });
  });
}

/** Opens a channel to a unix socket on the host (OpenSSH direct-streamlocal@openssh.com). */
export function openStreamLocalChannel(connection: SshConnection, where: string, remotePath: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    if (!connection.isOpen) {
      reject(connectionGoneError(connection, where, `during stream-local forward to ${remotePath}`));
      return;
    }
    connection.client.openssh_forwardOutStreamLocal(remotePath, (error, channel) => {
      if (error === undefined || error === null) {
        resolve(channel);
      } else if (!connection.isOpen) {
        reject(connectionGoneError(connection, where, `during stream-local forward to ${remotePath}`, error));
      } else {
        reject(new SshError('SSH_FORWARD', `SSH stream-local forward to ${remotePath} on ${where} failed (${error.message}). Is something listening on ${remotePath}, and does sshd allow AllowStreamLocalForwarding?`, { cause: error, data: { where, phase: 'forward', remotePath } }));
      }
    });
  });
}
