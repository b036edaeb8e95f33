import type { SFTPWrapper } from 'ssh2';
import { SshError } from './SshError.js';
import type { SshConnection } from './SshConnection.js';
import { connectionGoneError } from './openChannel.js';

/**
 * File transfer over one SFTP session per call: a session is cheap next to a VM image, and a
 * fresh one cannot be left half-broken by an earlier transfer.
 */
export async function putFile(connection: SshConnection, where: string, source: string | Buffer, remotePath: string, mode: number | undefined): Promise<void> {
  const what = typeof source === 'string' ? `put of ${source} to ${remotePath}` : `put of ${source.length} bytes to ${remotePath}`;
  await withSftp(connection, where, what, async (sftp) => {
    const modeOption = mode === undefined ? {} : { mode };
    if (typeof source === 'string') {
      await sftpCall<void>((done) => sftp.fastPut(source, remotePath, modeOption, done));
    } else {
      await sftpCall<void>((done) => sftp.writeFile(remotePath, source, modeOption, done));
    }
    // The mode given at open is filtered by sftp-server's umask, and an existing file keeps its
    // old mode: set it explicitly so the caller gets exactly what it asked for.
    if (mode !== undefined) await sftpCall<void>((done) => sftp.chmod(remotePath, mode, done));
  });
}

export async function getFile(connection: SshConnection, where: string, remotePath: string, localPath: string): Promise<void> {
  await withSftp(connection, where, `get of ${remotePath} to ${localPath}`, (sftp) => sftpCall<void>((done) => sftp.fastGet(remotePath, localPath, done)));
}

async function withSftp<T>(connection: SshConnection, where: string, what: string, use: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
  const sftp = await openSftp(connection, where, what);
  try {
    return await use(sftp);
  } catch (error) {
    if (!connection.isOpen) throw connectionGoneError(connection, where, `during SFTP ${what}`, error);
    const message = error instanceof Error ? error.message : String(error);
    throw new SshError('SSH_SFTP', `SFTP ${what} on ${where} failed: ${message}`, { cause: error, data: { where, phase: 'sftp', operation: what } });
  } finally {
    sftp.end();
  }
}

function openSftp(connection: SshConnection, where: string, what: string): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    if (!connection.isOpen) {
      reject(connectionGoneError(connection, where, `during SFTP ${what}`));
      return;
    }
    connection.client.sftp((error, sftp) => {
      if (error === undefined || error === null) resolve(sftp);
      else if (!connection.isOpen) reject(connectionGoneError(connection, where, `during SFTP ${what}`, error));
      else reject(new SshError('SSH_SFTP', `SFTP on ${where} could not start for the ${what} (${error.message}); is the sftp subsystem enabled in sshd?`, { cause: error, data: { where, phase: 'sftp' } }));
    });
  });
}

function sftpCall<T>(start: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, value) => {
      if (error !== undefined && error !== null) reject(error);
      else resolve(value as T);
    });
  });
}
