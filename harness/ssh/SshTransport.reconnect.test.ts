import { rejectionOf } from '../../test/support/rejectionOf.js';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SshError } from './SshError.js';
import { SshTransport } from './SshTransport.js';
import { TestSshd } from '../../test/support/testSshd.js';

const execFileAsync = promisify(execFile);


/** Polls until some process's full command line matches `pattern`; fails naming it at the deadline. */
async function waitForProcess(pattern: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await execFileAsync('pgrep', ['-f', pattern]).then(
      () => true,
      (error: { code?: number }) => {
        if (error.code === 1) return false;
        throw error;
      },
    );
    if (found) return;
    if (Date.now() > deadline) throw new Error(`no process matching /${pattern}/ appeared within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function nextDisconnect(transport: SshTransport): Promise<SshError> {
  return new Promise((resolve) => {
    const unsubscribe = transport.onDisconnect((error) => {
      unsubscribe();
      resolve(error);
    });
  });
}

describe('SshTransport reconnect after a dropped connection (real sshd)', function () {
  let sshd: TestSshd;
  let transport: SshTransport;

  before(async function () {
    sshd = await TestSshd.start();
    await sshd.writeKnownHosts();
  });

  beforeEach(async function () {
    transport = new SshTransport(sshd.hostSpec(), { connectTimeoutMs: 5_000 });
    await transport.open();
  });

  afterEach(async function () {
    await transport.close();
    await sshd.dropConnections();
  });

  after(async function () {
    await sshd?.stop();
    expect(await sshd.leftoverPids(), 'sshd processes left behind').to.deep.equal([]);
    expect(existsSync(sshd.dir), 'sshd temp folder left behind').to.equal(false);
  });

  it('tells onDisconnect listeners; fails non-idempotent calls; reconnects for idempotent ones', async function () {
    expect((await transport.run('echo before')).stdout).to.equal('before\n');
    const disconnected = nextDisconnect(transport);
    expect(await sshd.dropConnections()).to.have.length(1);
    const drop = await disconnected;
    expect(drop.code).to.equal('SSH_DISCONNECTED');
    expect(drop.message).to.contain(transport.where);
    expect(transport.state).to.equal('disconnected');

    const refused = await rejectionOf(transport.run('echo not retried'));
    expect(refused.code).to.equal('SSH_DISCONNECTED');
    expect(refused.message).to.contain(transport.where).and.contain('not marked idempotent');

    expect((await transport.run('echo after', { idempotent: true })).stdout).to.equal('after\n');
    expect(transport.state).to.equal('open');
    expect(await sshd.connectionPids()).to.have.length(1);

    // put/get are idempotent by nature.
    const again = nextDisconnect(transport);
    await sshd.dropConnections();
    await again;
    await transport.put(Buffer.from('after a drop'), join(sshd.dir, 'after-drop.txt'));
    expect(transport.state).to.equal('open');
  });

  it('retries an idempotent command that was running when the connection dropped', async function () {
    const running = transport.run('sleep 1.0531; echo done', { idempotent: true });
    await waitForProcess('^sleep 1\\.0531$');
    await sshd.dropConnections();
    const result = await running;
    expect(result).to.include({ exitCode: 0, stdout: 'done\n' });
  });

  it('fails a non-idempotent command that was running, and the streams and forwards on the connection', async function () {
    const socketPath = join(sshd.dir, 'qmp.sock');
    const server: Server = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const forward = await transport.openUnixSocket(socketPath);
      const forwardEnded = new Promise<void>((resolve) => forward.once('close', () => resolve()));
      forward.resume();
      const tail = await transport.spawn('sleep 30.0532');
      tail.stdout.resume();
      const running = transport.run('sleep 30.0533');
      await waitForProcess('^sleep 30\\.0533$');
      await sshd.dropConnections();
      const runError = await rejectionOf(running);
      expect(runError.code).to.equal('SSH_DISCONNECTED');
      expect(runError.message).to.contain('sleep 30.0533').and.contain(transport.where);
      expect((await rejectionOf(tail.exit)).code).to.equal('SSH_DISCONNECTED');
      await forwardEnded;
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('notices a host that stops answering through keepalive', async function () {
    const existing = new Set(await sshd.connectionPids());
    const quick = new SshTransport(sshd.hostSpec(), { keepaliveIntervalMs: 200, keepaliveCountMax: 2 });
    await quick.open();
    try {
      const disconnected = nextDisconnect(quick);
      // Freeze only the connection just made (the beforeEach transport has its own).
      const frozen = (await sshd.connectionPids()).filter((pid) => !existing.has(pid));
      expect(frozen).to.have.length(1);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      // The message says keepalive noticed it (not a TCP timeout much later).
      const drop = await disconnected;
      expect(drop.code).to.equal('SSH_DISCONNECTED');
      expect(drop.message).to.match(/keepalive/i);
    } finally {
      await quick.close();
    }
  });

  it('reconnects with the same host-key checks: a key changed meanwhile is refused', async function () {
    const disconnected = nextDisconnect(transport);
    await sshd.dropConnections();
    await disconnected;
    await execFileAsync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshd.dir, 'impostor')]);
    const impostor = (await execFileAsync('cat', [join(sshd.dir, 'impostor.pub')])).stdout.split(/\s+/).slice(0, 2).join(' ');
    await writeFile(join(sshd.dir, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${impostor}\n`);
    try {
      const error = await rejectionOf(transport.run('echo never', { idempotent: true }));
      expect(error.code).to.equal('SSH_HOSTKEY_CHANGED');
      expect(error.message).to.contain('Reconnecting for run()').and.contain('host key changed');
      expect(transport.state).to.equal('disconnected');
    } finally {
      await sshd.writeKnownHosts();
    }
  });
});
