import { rejectionOf } from '../../test/support/rejectionOf.js';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SshError } from './SshError.js';
import { SshTransport } from './SshTransport.js';
import { TestSshd } from '../../test/support/testSshd.js';

const execFileAsync = promisify(execFile);

/** Pids of processes whose full command line matches `pattern` (pgrep -f), on this machine. */
async function processesMatching(pattern: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('pgrep', ['-f', pattern]);
    return stdout.trim().split('\n');
  } catch (error) {
    // pgrep exits 1 when nothing matches.
    if ((error as { code?: number }).code === 1) return [];
    throw error;
  }
}

/** Polls until `count` processes match, or fails naming the pattern and the pids it last saw. */
async function waitForProcessCount(pattern: string, count: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = await processesMatching(pattern);
  while (seen.length !== count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} processes matching /${pattern}/ within ${timeoutMs} ms, last saw: [${seen.join(', ')}]`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen = await processesMatching(pattern);
  }
}

describe('SshTransport against a real sshd', function () {
  let sshd: TestSshd;
  let transport: SshTransport;

  before(async function () {
    sshd = await TestSshd.start();
    await sshd.writeKnownHosts();
    transport = new SshTransport(sshd.hostSpec(), { connectTimeoutMs: 5_000 });
    await transport.open();
  });

  after(async function () {
    await transport?.close();
    await sshd?.stop();
    expect(await sshd.leftoverPids(), 'sshd processes left behind').to.deep.equal([]);
    expect(existsSync(sshd.dir), 'sshd temp folder left behind').to.equal(false);
    expect(await processesMatching(sshd.dir)).to.deep.equal([]);
  });

  describe('run', function () {
    it('returns stdout, stderr and exit code 0', async function () {
      const result = await transport.run('echo out; echo err >&2');
      expect(result).to.include({ exitCode: 0, signal: null, stdout: 'out\n', stderr: 'err\n' });
      expect(result.durationMs).to.be.a('number').and.at.least(0);
    });

    it('returns a non-zero exit code as a result, not an error', async function () {
      const result = await transport.run('echo partial; exit 3');
      expect(result).to.include({ exitCode: 3, signal: null, stdout: 'partial\n' });
    });

    it('reports a command killed by a signal', async function () {
      const result = await transport.run('kill -KILL $$');
      expect(result).to.include({ exitCode: null, signal: 'KILL' });
    });

    it('feeds stdin and closes it', async function () {
      const result = await transport.run('wc -c; cat', { stdin: 'hello\n' });
      expect(result.stdout.trim()).to.equal('6');
      expect((await transport.run('cat', { stdin: Buffer.from('binary\u0000ok') })).stdout).to.equal('binary\u0000ok');
    });

    it('times out, kills the remote command and everything it started, and says where', async function () {
      // A run that waited for the sleep would resolve with "never" instead of this error.
      const error = await rejectionOf(transport.run('sleep 30.123; echo never', { timeoutMs: 500 }));
      expect(error).to.be.instanceOf(SshError);
      expect(error.code).to.equal('SSH_TIMEOUT');
      expect(error.message).to.contain(transport.where).and.contain('500 ms').and.contain('sleep 30.123; echo never');
      expect(error.data?.['isExitConfirmed']).to.equal(true);
      await waitForProcessCount('^sleep 30\\.123$', 0);
      // The connection stays usable after a timeout.
      expect((await transport.run('echo still here')).stdout).to.equal('still here\n');
    });

    it('on timeout also kills what the command moved to a session of its own', async function () {
      const error = await rejectionOf(transport.run('setsid sleep 30.127 & wait', { timeoutMs: 500 }));
      expect(error.code).to.equal('SSH_TIMEOUT');
      await waitForProcessCount('^sleep 30\\.127$', 0);
    });
  });

  describe('spawn', function () {
    it('streams stdout, takes stdin, and resolves exit with the code', async function () {
      const process = await transport.spawn('echo ready; cat; exit 4');
      const firstChunk = await new Promise<string>((resolve) => process.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      expect(firstChunk).to.equal('ready\n');
      const rest: Buffer[] = [];
      process.stdout.on('data', (chunk: Buffer) => rest.push(chunk));
      process.stdin.end('echoed\n');
      expect(await process.exit).to.deep.equal({ exitCode: 4, signal: null });
      expect(Buffer.concat(rest).toString()).to.equal('echoed\n');
      expect(process.isRunning).to.equal(false);
    });

    it('kill() stops a long-running command as root, where the SSH signal request is refused', async function () {
      const process = await transport.spawn('sleep 30.124');
      process.stdout.resume();
      await waitForProcessCount('^sleep 30\\.124$', 1);
      expect(await process.kill('TERM')).to.be.at.least(1);
      expect(await process.exit).to.deep.equal({ exitCode: null, signal: 'TERM' });
      await waitForProcessCount('^sleep 30\\.124$', 0);
    });
  });

  describe('openUnixSocket', function () {
    let server: Server;
    let socketPath: string;

    before(async function () {
      socketPath = join(sshd.dir, 'echo.sock');
      server = createServer((socket) => socket.pipe(socket));
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    });

    after(async function () {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('forwards a stream to a unix socket on the host (echo round trip)', async function () {
      const stream = await transport.openUnixSocket(socketPath);
      const reply = new Promise<string>((resolve) => stream.once('data', (chunk: Buffer) => resolve(chunk.toString())));
      stream.write('{"execute":"qmp_capabilities"}\n');
      expect(await reply).to.equal('{"execute":"qmp_capabilities"}\n');
      stream.end();
    });

    it('fails with SSH_FORWARD naming the socket when nothing listens there', async function () {
      const missing = join(sshd.dir, 'nobody.sock');
      const error = await rejectionOf(transport.openUnixSocket(missing));
      expect(error.code).to.equal('SSH_FORWARD');
      expect(error.message).to.contain(missing).and.contain(transport.where);
    });
  });

  describe('put and get', function () {
    it('round-trips a buffer and a local file, applying the mode exactly', async function () {
      const remoteDir = join(sshd.dir, 'remote');
      await mkdir(remoteDir);
      const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
      await transport.put(payload, join(remoteDir, 'blob.bin'), { mode: 0o640 });
      expect((await stat(join(remoteDir, 'blob.bin'))).mode & 0o777).to.equal(0o640);

      const localSource = join(sshd.dir, 'local.txt');
      await writeFile(localSource, 'from a file\n');
      await transport.put(localSource, join(remoteDir, 'script.sh'), { mode: 0o755 });
      expect((await stat(join(remoteDir, 'script.sh'))).mode & 0o777).to.equal(0o755);

      const fetched = join(sshd.dir, 'fetched.bin');
      await transport.get(join(remoteDir, 'blob.bin'), fetched);
      expect((await readFile(fetched)).equals(payload)).to.equal(true);
    });

    it('fails with SSH_SFTP naming the remote path', async function () {
      const error = await rejectionOf(transport.get('/nonexistent/hil/file', join(sshd.dir, 'never')));
      expect(error.code).to.equal('SSH_SFTP');
      expect(error.message).to.contain('/nonexistent/hil/file').and.contain(transport.where);
    });
  });

  describe('lifecycle', function () {
    it('refuses calls before open() and after close(), naming the call and the state', async function () {
      const fresh = new SshTransport(sshd.hostSpec());
      const early = await rejectionOf(fresh.run('true'));
      expect(early.code).to.equal('SSH_STATE');
      expect(early.message).to.contain('run()').and.contain('new');
      await fresh.open();
      const twice = await rejectionOf(fresh.open());
      expect(twice.code).to.equal('SSH_STATE');
      expect(twice.message).to.contain('open()').and.contain('is open');
      await fresh.close();
      await fresh.close();
      expect(fresh.state).to.equal('closed');
      const late = await rejectionOf(fresh.put(Buffer.from('x'), '/tmp/never'));
      expect(late.code).to.equal('SSH_STATE');
      expect(late.message).to.contain('put()').and.contain('closed');
    });

    it('close() stops spawned commands that are still running', async function () {
      const fresh = new SshTransport(sshd.hostSpec());
      await fresh.open();
      const process = await fresh.spawn('sleep 30.125');
      await waitForProcessCount('^sleep 30\\.125$', 1);
      await fresh.close();
      await waitForProcessCount('^sleep 30\\.125$', 0);
      expect(process.isRunning).to.equal(false);
    });

    it('names the host and the phase when its configuration cannot work', async function () {
      const sshConfigFile = join(sshd.dir, 'ssh_config');
      await writeFile(sshConfigFile, 'Host elsewhere\n  Port 2222\n');
      const misconfigured = new SshTransport(sshd.hostSpec({ sshConfigHost: 'nowhere' }), { sshConfigFile });
      const error = await rejectionOf(misconfigured.open());
      expect(error.code).to.equal('SSH_CONFIG');
      expect(error.message).to.contain(misconfigured.where).and.contain('configuration').and.contain('"nowhere"').and.contain(sshConfigFile);
    });

    it('fails to connect with SSH_CONNECT naming user@host:port when nothing listens', async function () {
      const closedPort = new SshTransport(sshd.hostSpec({ port: 1 }), { connectTimeoutMs: 2_000 });
      const error = await rejectionOf(closedPort.open());
      expect(error.code).to.equal('SSH_CONNECT');
      expect(error.message).to.contain(`@127.0.0.1:1`).and.contain('refused');
      expect(closedPort.state).to.equal('new');
    });
  });
});
