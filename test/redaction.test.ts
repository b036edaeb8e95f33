import { rejectionOf } from './support/rejectionOf.js';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { appendFile, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { causeChain } from '../harness/errors.js';
import { runChecked } from '../harness/LocalRunner.js';
import { SshTransport, type SshTransportOptions } from '../harness/ssh/SshTransport.js';
import { TestSshd } from './support/testSshd.js';
import { BAD_LAB_DIR } from './support/badLabCorpus.js';
import { runCli } from './support/runCli.js';
import { makeKeyPair } from './support/sshKeys.js';

/** Every form in which a passphrase could be written out: as is, and the encodings dumps use. */
function formsOf(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, bytes.toString('base64'), bytes.toString('hex'), JSON.stringify(secret).slice(1, -1)];
}

/** Everything a log, report or artifact could take from an error or an object. */
function everythingShownOf(value: unknown): string {
  const parts = [inspect(value, { depth: Infinity, showHidden: true, getters: true })];
  if (value instanceof Error) {
    parts.push(String(value), value.stack ?? '', causeChain(value).join('\n'));
    const data = (value as { data?: unknown }).data;
    if (data !== undefined) parts.push(JSON.stringify(data));
  } else {
    parts.push(jsonOf(value));
  }
  return parts.join('\n');
}

/** JSON as a structured logger would write it: cycles (an open ssh2 client has them) cut, not fatal. */
function jsonOf(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'object' || item === null) return item;
    if (seen.has(item)) return '[cycle]';
    seen.add(item);
    return item;
  }) ?? '';
}

/**
 * A passphrase-protected key is planted (authorized on a real sshd), and the transport is driven
 * through every way it can fail with the passphrase in hand: wrong, missing, refused by the host,
 * unreachable host, failing and timed-out commands, calls in the wrong state. Neither the errors
 * (message, stack, data, cause chain) nor the transport objects may show it in any form.
 */
describe('redaction: a key passphrase never appears in an error, a log line or an object dump', function () {
  this.timeout(60_000);
  const passphrase = `hil-planted-${randomBytes(9).toString('hex')}`;
  let sshd: TestSshd;
  let dir: string;
  let keyFile: string;
  const shown: string[] = [];
  const transports: SshTransport[] = [];

  before(async () => {
    sshd = await TestSshd.start();
    await sshd.writeKnownHosts();
    dir = await mkdtemp(join(tmpdir(), 'hil-redaction-'));
    keyFile = join(dir, 'id_protected');
    await makeKeyPair(keyFile, passphrase);
    await appendFile(join(sshd.dir, 'authorized_keys'), await readFile(`${keyFile}.pub`));
  });

  after(async () => {
    for (const transport of transports) await transport.close();
    await sshd?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    expect(await sshd.leftoverPids(), 'sshd processes left behind').to.deep.equal([]);
  });

  function transport(options: SshTransportOptions, overrides: Parameters<TestSshd['hostSpec']>[0] = {}): SshTransport {
    const made = new SshTransport(sshd.hostSpec({ identityFile: keyFile, ...overrides }), { connectTimeoutMs: 5_000, ...options });
    transports.push(made);
    return made;
  }

  /** Records what `value` would show, and fails at once if it shows the passphrase. */
  function expectNoPassphrase(what: string, value: unknown): void {
    const text = everythingShownOf(value);
    shown.push(text);
    for (const form of formsOf(passphrase)) expect(text.includes(form), `${what} shows the passphrase (as ${JSON.stringify(form)}):\n${text}`).to.equal(false);
  }

  it('a wrong passphrase fails authentication naming the key file, without the passphrase', async () => {
    const error = await rejectionOf(transport({ passphrase: `${passphrase}-wrong` }).open());
    expect(error).to.include({ code: 'SSH_AUTH' });
    expect(error.message).to.contain(keyFile).and.to.contain('bad passphrase');
    expectNoPassphrase('wrong-passphrase error', error);
  });

  it('a missing passphrase says the key needs one', async () => {
    const error = await rejectionOf(transport({}).open());
    expect(error.message).to.contain('it is passphrase-protected and no passphrase was given');
    expectNoPassphrase('missing-passphrase error', error);
  });

  it('the right passphrase with a user the host refuses, or a host that is not there, fails without it', async () => {
    expectNoPassphrase('refused-user error', await rejectionOf(transport({ passphrase }, { user: 'hil-no-such-user' }).open()));
    expectNoPassphrase('closed-port error', await rejectionOf(transport({ passphrase }, { port: 1 }).open()));
  });

  it('an open transport, its failing and timed-out commands and its misuse show no passphrase', async () => {
    const open = transport({ passphrase });
    await open.open();
    expect((await open.run('echo ok')).stdout).to.equal('ok\n');
    expectNoPassphrase('open transport', open);
    expectNoPassphrase('failing command', await rejectionOf(runChecked(open, 'echo to stderr >&2; exit 3')));
    expectNoPassphrase('timed-out command', await rejectionOf(open.run('sleep 5', { timeoutMs: 300 })));
    expectNoPassphrase('open() twice', await rejectionOf(open.open()));
    await open.close();
    expectNoPassphrase('run() after close()', await rejectionOf(open.run('true')));
    expectNoPassphrase('closed transport', open);
  });

  it('`hil preflight` with the protected key prints why it cannot use it, and nothing of a passphrase written into lab.yaml', async () => {
    // unknown-key-passphrase.yaml carries "passphrase: hunter2-lab-secret" as a (refused) key.
    const labSecret = 'hunter2-lab-secret';
    const refused = await runCli(['--lab', join(BAD_LAB_DIR, 'unknown-key-passphrase.yaml'), 'preflight']);
    expect(refused.exitCode).to.equal(2);
    expect([...refused.out, ...refused.err].join('\n')).to.contain('hosts.host-a.passphrase is not a known key').and.not.contain(labSecret);

    const labFile = join(dir, 'lab.yaml');
    const lab = (await readFile(join(BAD_LAB_DIR, 'ssh-passphrase-key.yaml'), 'utf8')).replaceAll('__PORT__', String(sshd.port));
    await writeFile(labFile, lab);
    await copyFile(keyFile, join(dir, 'id_passphrase'));
    await writeFile(join(dir, 'known_hosts'), `${await sshd.knownHostsLine()}\n`);
    for (const args of [['preflight', '--host', 'host-a'], ['preflight', '--json', '--host', 'host-a']]) {
      const run = await runCli(['--lab', labFile, ...args]);
      expect(run.exitCode).to.equal(2);
      const printed = [...run.out, ...run.err].join('\n');
      expect(printed).to.contain('it is passphrase-protected and no passphrase was given');
      expectNoPassphrase(`hil ${args.join(' ')} output`, printed);
    }
  });

  it('looked at everything above (so the scan cannot pass by seeing nothing)', () => {
    expect(shown.length).to.be.at.least(10);
    expect(shown.join('\n')).to.contain('SSH_AUTH').and.contain('SSH_TIMEOUT').and.contain('COMMAND_FAILED');
  });
});
