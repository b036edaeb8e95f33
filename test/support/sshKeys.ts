import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Makes an ed25519 key pair at `file` (and `file`.pub); an empty passphrase leaves it unencrypted. */
export async function makeKeyPair(file: string, passphrase = ''): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'hil-test', '-f', file]);
}
