import type { ClientChannel } from 'ssh2';
import type { CommandResult } from '../runner.js';
import { SshError } from './SshError.js';
import type { SshConnection } from './SshConnection.js';
import { connectionGoneError, openExecChannel } from './openChannel.js';
import { killMarkedCommand, markedCommand, newRunId } from './remoteKill.js';

export interface RunCommandOptions {
  readonly timeoutMs: number;
  /** After a timeout, how long to wait for the host to confirm the killed command is gone. */
  readonly killGraceMs: number;
  readonly stdin?: string | Buffer;
}

/**
 * Runs one command to completion on an open connection. On timeout the command and everything it
 * started get SIGKILL (see remoteKill.ts), and the channel is closed once the host confirms the
 * command ended or the grace period is over.
 */
export async function runCommand(connection: SshConnection, where: string, command: string, options: RunCommandOptions): Promise<CommandResult> {
  const startedAt = Date.now();
  const runId = newRunId();
  const { channel, exitStatus } = await openExecChannel(connection, where, markedCommand(command, runId));
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let isSettled = false;
    let isTimedOut = false;
    const settle = (outcome: { result: CommandResult } | { error: SshError }) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      stopWatchingConnection();
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.error);
    };
    const collected = () => ({ stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });

    const stopWatchingConnection = connection.onClose((cause) => {
      settle({ error: connectionGoneError(connection, where, `during exec of: ${command}`, cause) });
    });
    const timer = setTimeout(() => {
      isTimedOut = true;
      void killAfterTimeout(connection, where, channel, runId, options.killGraceMs).then((isExitConfirmed) => {
        const output = collected();
        settle({
          error: new SshError('SSH_TIMEOUT', `SSH exec on ${where} timed out after ${options.timeoutMs} ms (sent SIGKILL; ${isExitConfirmed ? 'the command is gone' : 'the host did not confirm the command ended'}): ${command}`, {
            data: { where, phase: 'exec', command, timeoutMs: options.timeoutMs, isExitConfirmed, ...output },
          }),
        });
      });
    }, options.timeoutMs);

    channel.on('data', (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    channel.on('close', () => {
      // After a timeout the kill ends the channel; the timeout path reports it.
      if (isTimedOut) return;
      const exit = exitStatus();
      if (exit !== undefined) {
        settle({ result: { ...exit, ...collected(), durationMs: Date.now() - startedAt } });
      } else if (!connection.isOpen) {
        settle({ error: connectionGoneError(connection, where, `during exec of: ${command}`) });
      } else {
        settle({ error: new SshError('SSH_EXEC', `SSH exec on ${where}: the channel closed without an exit status: ${command}`, { data: { where, phase: 'exec', command, ...collected() } }) });
      }
    });
    channel.end(options.stdin ?? '');
  });
}

/** Kills the command and resolves once its channel closes (true) or the grace period ends (false). */
function killAfterTimeout(connection: SshConnection, where: string, channel: ClientChannel, runId: string, graceMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const grace = setTimeout(() => {
      channel.removeListener('close', onClose);
      channel.close();
      resolve(false);
    }, graceMs);
    const onClose = () => {
      clearTimeout(grace);
      resolve(true);
    };
    channel.once('close', onClose);
    void killMarkedCommand(connection, where, channel, runId, 'KILL');
  });
}
