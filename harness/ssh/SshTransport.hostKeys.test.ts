import { rejectionOf } from '../../test/support/rejectionOf.js';
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostSpec } from '../config/types.js';
import { SshTransport, type SshTransportOptions } from './SshTransport.js';
import { TestSshd } from '../../test/support/testSshd.js';

const execFileAsync = promisify(execFile);


/** Opens a transport, runs one command through it, closes it: proof that the connection works. */
async function connectsAndRuns(spec: HostSpec, options: SshTransportOptions = {}): Promise<string> {
  const transport = new SshTransport(spec, { connectTimeoutMs: 5_000, ...options });
  await transport.open();
  try {
    return (await transport.run('echo connected')).stdout;
  } finally {
    await transport.close();
  }
}

async function openFails(spec: HostSpec, options: SshTransportOptions = {}): Promise<Error & { code?: string }> {
  const transport = new SshTransport(spec, { connectTimeoutMs: 5_000, ...options });
  const error = await rejectionOf(transport.open());
  expect(transport.state).to.equal('new');
  return error;
}

describe('SshTransport host keys and authentication (real sshd)', function () {
  let sshd: TestSshd;
  let where: string;
  let knownHosts: string;
  let fingerprint: string;
  let otherKeyLine: string;

  before(async function () {
    sshd = await TestSshd.start();
    where = `${sshd.hostSpec().user}@127.0.0.1:${sshd.port}`;
    knownHosts = join(sshd.dir, 'known_hosts');
    fingerprint = (await execFileAsync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${sshd.hostKeyFile}.pub`])).stdout.split(/\s+/)[1]!;
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshd.dir, 'other_key')]);
    otherKeyLine = (await readFile(join(sshd.dir, 'other_key.pub'), 'utf8')).split(/\s+/).slice(0, 2).join(' ');
  });

  after(async function () {
    await sshd?.stop();
    expect(await sshd.leftoverPids(), 'sshd processes left behind').to.deep.equal([]);
    expect(existsSync(sshd.dir), 'sshd temp folder left behind').to.equal(false);
  });

  describe('known_hosts', function () {
    it('accepts a plain entry written by ssh-keyscan', async function () {
      const { stdout } = await execFileAsync('ssh-keyscan', ['-t', 'ed25519', '-p', String(sshd.port), '127.0.0.1']);
      await writeFile(knownHosts, stdout);
      expect(stdout).to.contain(`[127.0.0.1]:${sshd.port} ssh-ed25519 `);
      expect(await connectsAndRuns(sshd.hostSpec())).to.equal('connected\n');
    });

    it('accepts a hashed entry written by ssh-keyscan -H', async function () {
      const { stdout } = await execFileAsync('ssh-keyscan', ['-H', '-t', 'ed25519', '-p', String(sshd.port), '127.0.0.1']);
      await writeFile(knownHosts, stdout);
      expect(stdout).to.match(/^\|1\|/m).and.not.contain('127.0.0.1');
      expect(await connectsAndRuns(sshd.hostSpec())).to.equal('connected\n');
    });

    it('finds the host in a comma list after a negated pattern that does not apply', async function () {
      await writeFile(knownHosts, `# lab hosts\nother.example,!10.9.9.9,[127.0.0.1]:${sshd.port} ${await sshd.hostPublicKey()} comment\n`);
      expect(await connectsAndRuns(sshd.hostSpec())).to.equal('connected\n');
    });

    it('does not take a key recorded for port 22 or for another port as this port\'s key', async function () {
      await writeFile(knownHosts, `127.0.0.1 ${await sshd.hostPublicKey()}\n[127.0.0.1]:${sshd.port + 1} ${await sshd.hostPublicKey()}\n`);
      const error = await openFails(sshd.hostSpec());
      expect(error.code).to.equal('SSH_HOSTKEY_UNKNOWN');
    });

    it('refuses an unknown key with the exact ssh-keyscan command and hostKey line, and that command works', async function () {
      await writeFile(knownHosts, '');
      const error = await openFails(sshd.hostSpec());
      expect(error.code).to.equal('SSH_HOSTKEY_UNKNOWN');
      const keyscan = `ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${knownHosts}`;
      expect(error.message).to.contain(where).and.contain('host key').and.contain(fingerprint);
      expect(error.message).to.contain(keyscan).and.contain(`hostKey: "${fingerprint}"`).and.contain('under hosts.test');
      await execFileAsync('/bin/sh', ['-c', keyscan]);
      expect(await connectsAndRuns(sshd.hostSpec())).to.equal('connected\n');
    });

    it('refuses a changed key, naming the file and line', async function () {
      await writeFile(knownHosts, `# first line is a comment\n[127.0.0.1]:${sshd.port} ${otherKeyLine}\n`);
      const error = await openFails(sshd.hostSpec());
      expect(error.code).to.equal('SSH_HOSTKEY_CHANGED');
      expect(error.message).to.contain('host key changed').and.contain(`${knownHosts}:2`).and.contain(where).and.contain(fingerprint);
    });

    it('refuses a key marked @revoked even when another line lists it', async function () {
      const line = `[127.0.0.1]:${sshd.port} ${await sshd.hostPublicKey()}`;
      await writeFile(knownHosts, `${line}\n@revoked ${line}\n`);
      const error = await openFails(sshd.hostSpec());
      expect(error.code).to.equal('SSH_HOSTKEY_REVOKED');
      expect(error.message).to.contain(`${knownHosts}:2`);
    });

    it('ignores @cert-authority lines: they neither vouch for nor contradict the key', async function () {
      await writeFile(knownHosts, `@cert-authority [127.0.0.1]:${sshd.port} ${otherKeyLine}\n`);
      expect((await openFails(sshd.hostSpec())).code).to.equal('SSH_HOSTKEY_UNKNOWN');
      await appendFile(knownHosts, `${await sshd.knownHostsLine()}\n`);
      expect(await connectsAndRuns(sshd.hostSpec())).to.equal('connected\n');
    });
  });

  describe('pinned hostKey', function () {
    it('accepts the whole public key and the SHA256 fingerprint', async function () {
      const noFile = { knownHosts: undefined };
      expect(await connectsAndRuns(sshd.hostSpec({ ...noFile, hostKey: await sshd.hostPublicKey() }))).to.equal('connected\n');
      expect(await connectsAndRuns(sshd.hostSpec({ ...noFile, hostKey: fingerprint }))).to.equal('connected\n');
    });

    it('refuses a wrong pin in either form, naming the lab.yaml field', async function () {
      for (const wrongPin of [otherKeyLine, (await execFileAsync('ssh-keygen', ['-l', '-f', join(sshd.dir, 'other_key.pub')])).stdout.split(/\s+/)[1]!]) {
        const error = await openFails(sshd.hostSpec({ knownHosts: undefined, hostKey: wrongPin }));
        expect(error.code).to.equal('SSH_HOSTKEY_CHANGED');
        expect(error.message).to.contain('hosts.test.hostKey').and.contain(fingerprint).and.contain(where);
      }
    });

    it('refuses an unknown key when neither knownHosts nor hostKey is set, with the hostKey line to add', async function () {
      const error = await openFails(sshd.hostSpec({ knownHosts: undefined }));
      expect(error.code).to.equal('SSH_HOSTKEY_UNKNOWN');
      expect(error.message).to.contain(`hostKey: "${fingerprint}"`).and.not.contain('ssh-keyscan');
    });
  });

  describe('trust on first use', function () {
    it('appends the key to a new known_hosts file (0600) only when asked, and later connections check it', async function () {
      const tofuFile = join(sshd.dir, 'tofu', 'known_hosts');
      expect((await openFails(sshd.hostSpec({ knownHosts: tofuFile }))).code).to.equal('SSH_HOSTKEY_UNKNOWN');
      expect(existsSync(tofuFile)).to.equal(false);
      expect(await connectsAndRuns(sshd.hostSpec({ knownHosts: tofuFile, trustOnFirstUse: true }))).to.equal('connected\n');
      expect((await stat(tofuFile)).mode & 0o777).to.equal(0o600);
      expect(await readFile(tofuFile, 'utf8')).to.equal(`${await sshd.knownHostsLine()}\n`);
      expect(await connectsAndRuns(sshd.hostSpec({ knownHosts: tofuFile }))).to.equal('connected\n');
    });

    it('never overrides a changed key', async function () {
      await writeFile(knownHosts, `[127.0.0.1]:${sshd.port} ${otherKeyLine}\n`);
      expect((await openFails(sshd.hostSpec({ trustOnFirstUse: true }))).code).to.equal('SSH_HOSTKEY_CHANGED');
    });
  });

  describe('authentication', function () {
    before(async function () {
      await writeFile(knownHosts, `${await sshd.knownHostsLine()}\n`);
    });

    it('names user@host:port, the methods tried and the lab.yaml field when the key is refused', async function () {
      const error = await openFails(sshd.hostSpec({ identityFile: join(sshd.dir, 'other_key') }));
      expect(error.code).to.equal('SSH_AUTH');
      expect(error.message).to.equal(`SSH authentication to ${where} failed (tried publickey). Check hosts.test.identityFile.`);
    });

    it('loads a passphrase-protected key with the passphrase, and never shows the passphrase', async function () {
      const keyFile = join(sshd.dir, 'id_protected');
      await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-f', keyFile]);
      await appendFile(join(sshd.dir, 'authorized_keys'), await readFile(`${keyFile}.pub`));
      const spec = sshd.hostSpec({ identityFile: keyFile });
      expect(await connectsAndRuns(spec, { passphrase: 'correct horse' })).to.equal('connected\n');
      const missing = await openFails(spec);
      expect(missing.code).to.equal('SSH_AUTH');
      expect(missing.message).to.contain(keyFile).and.contain('passphrase-protected').and.contain(where);
      const wrong = await openFails(spec, { passphrase: 'battery staple' });
      expect(wrong.code).to.equal('SSH_AUTH');
      expect(`${wrong.message} ${JSON.stringify(wrong)}`).to.not.contain('battery').and.not.contain('horse');
    });

    describe('with a real ssh-agent', function () {
      let agent: ChildProcess;
      let agentSocket: string;

      before(async function () {
        agentSocket = join(sshd.dir, 'agent.sock');
        agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
        const env = { ...process.env, SSH_AUTH_SOCK: agentSocket };
        await waitForAgent(agentSocket, env);
      });

      after(async function () {
        const exited = new Promise((resolve) => agent.once('exit', resolve));
        agent.kill('SIGTERM');
        await exited;
      });

      it('authenticates with the key held by the agent, and says so when the agent has none', async function () {
        const spec = sshd.hostSpec({ identityFile: undefined, agent: true });
        const empty = await openFails(spec, { agentSocket });
        expect(empty.code).to.equal('SSH_AUTH');
        expect(empty.message).to.contain('tried publickey via ssh-agent').and.contain('hosts.test.agent');
        await execFileAsync('ssh-add', ['-q', sshd.clientKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
        expect(await connectsAndRuns(spec, { agentSocket })).to.equal('connected\n');
      });

      it('refuses agent: true without a socket, before connecting', async function () {
        const error = await openFails(sshd.hostSpec({ identityFile: undefined, agent: true }));
        expect(error.code).to.equal('SSH_AUTH');
        expect(error.message).to.contain('SSH_AUTH_SOCK');
      });
    });
  });
});

/** ssh-add -l exits 1 ("no identities") once the agent answers, 2 while it cannot be reached. */
async function waitForAgent(socket: string, env: NodeJS.ProcessEnv, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = await new Promise<number | null>((resolve) => spawn('ssh-add', ['-l'], { env, stdio: 'ignore' }).once('exit', resolve));
    if (code === 0 || code === 1) return;
    if (Date.now() > deadline) throw new Error(`ssh-agent at ${socket} did not answer within ${timeoutMs} ms (ssh-add -l exit ${code})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
