import type { Readable, Writable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import type { SshError } from './SshError.js';
import type { SshConnection } from './SshConnection.js';
import { connectionGoneError, type ExecChannel, type ExitStatus } from './openChannel.js';
import { killMarkedCommand } from './remoteKill.js';

export type SshProcessExit = ExitStatus;

/**
 * A long-running remote command (a QEMU console, `tail -F` of a log): its streams as they come,
 * and `exit`, which settles when the command ends, or rejects with SSH_DISCONNECTED when the
 * connection drops first. As with a child process, read (or resume()) stdout and stderr: an
 * unread stream stalls the command once the SSH window fills, and `exit` settles only after
 * stdout has ended.
 */
export class SshProcess {
  readonly exit: Promise<SshProcessExit>;
  private isEnded = false;

  private readonly channel: ClientChannel;

  /** `runId`: the marker the command was started with (remoteKill.ts), so kill() can find it. */
  constructor(
    exec: ExecChannel,
    private readonly connection: SshConnection,
    readonly where: string,
    readonly command: string,
    private readonly runId: string,
  ) {
    const channel = exec.channel;
    this.channel = channel;
    this.exit = new Promise((resolve, reject) => {
      const stopWatching = connection.onClose((cause) => {
        if (this.isEnded) return;
        this.isEnded = true;
        // ssh2 ends the streams itself; readers see 'end', `exit` says why.
        const error: SshError = connectionGoneError(connection, where, `during streaming exec of: ${command}`, cause);
        reject(error);
      });
      channel.on('close', () => {
        stopWatching();
        if (this.isEnded) return;
        this.isEnded = true;
        const status = exec.exitStatus();
        if (status !== undefined) resolve(status);
        else if (!connection.isOpen) reject(connectionGoneError(connection, where, `during streaming exec of: ${command}`));
        // No exit status and the connection is up: the channel was closed from our side.
        else resolve({ exitCode: null, signal: null });
      });
    });
    // A caller that only reads the streams must not crash the process with an unhandled
    // rejection on a drop; callers that await `exit` still get the rejection.
    this.exit.catch(markRejectionHandled);
  }

  /** The remote command's stdin. */
  get stdin(): Writable {
    return this.channel;
  }

  get stdout(): Readable {
    return this.channel;
  }

  get stderr(): Readable {
    return this.channel.stderr;
  }

  get isRunning(): boolean {
    return !this.isEnded;
  }

  /**
   * Sends a signal ("TERM", "KILL", "INT", ...) to the remote command and everything it started;
   * resolves with how many processes were signalled. `exit` tells when they are gone.
   */
  kill(signalName = 'TERM'): Promise<number> {
    return killMarkedCommand(this.connection, this.where, this.channel, this.runId, signalName.replace(/^SIG/, '').toUpperCase());
  }

  /** Closes the channel; the remote command sees EOF on stdin and a broken pipe on output. */
  close(): void {
    this.channel.close();
  }
}

function markRejectionHandled(_error: unknown): void {
  // Intentionally nothing: see the constructor. The rejection is observed through `exit`.
}
