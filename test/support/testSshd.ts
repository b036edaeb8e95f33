import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostSpec } from '../../harness/config/types.js';

const run = promisify(execFile);

/**
 * A real OpenSSH sshd on 127.0.0.1 for tests: fresh ed25519 host key, a client key in
 * authorized_keys, stream-local forwarding and SFTP on. It runs in the foreground (-D -e) as a
 * child of the test process; stop() kills it and every per-connection child and removes its
 * folder. Needs root (sshd's privilege separation) and the openssh-server package.
 */
export class TestSshd {
  private process: ChildProcess | undefined;
  private readonly logLines: string[] = [];
  /** Every pid this server was seen to own, so a test can check none is left. */
  readonly seenPids = new Set<number>();

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  readonly host = '127.0.0.1';

  get hostKeyFile(): string {
    return join(this.dir, 'ssh_host_ed25519_key');
  }

  get clientKeyFile(): string {
    return join(this.dir, 'id_ed25519');
  }

  get configFile(): string {
    return join(this.dir, 'sshd_config');
  }

  /** The listener's pid, while it runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  get log(): string {
    return this.logLines.join('\n');
  }

  /** "ssh-ed25519 AAAA..." of the host key. */
  async hostPublicKey(): Promise<string> {
    return (await readFile(`${this.hostKeyFile}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  }

  /** The known_hosts line ssh-keyscan would write for this server. */
  async knownHostsLine(): Promise<string> {
    return `[${this.host}]:${this.port} ${await this.hostPublicKey()}`;
  }

  static async start(options: { readonly extraConfig?: readonly string[]; readonly startTimeoutMs?: number } = {}): Promise<TestSshd> {
    const dir = await mkdtemp(join(tmpdir(), 'hil-sshd-'));
    const server = new TestSshd(dir, await freePort());
    try {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hil-test-host', '-f', server.hostKeyFile]);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hil-test-client', '-f', server.clientKeyFile]);
      await writeFile(join(dir, 'authorized_keys'), await readFile(`${server.clientKeyFile}.pub`));
      await writeFile(server.configFile, server.config(options.extraConfig ?? []));
      // sshd refuses to start without its privilege separation folder; a fresh container lacks it.
      await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
      await server.launch(options.startTimeoutMs ?? 10_000);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** A HostSpec for this server with the client key and a known_hosts file in the temp folder. */
  hostSpec(overrides: Partial<HostSpec> = {}): HostSpec {
    return {
      name: 'test',
      address: this.host,
      port: this.port,
      user: userInfo().username,
      identityFile: this.clientKeyFile,
      agent: false,
      knownHosts: join(this.dir, 'known_hosts'),
      trustOnFirstUse: false,
      workDir: join(this.dir, 'work'),
      migrationAddress: this.host,
      qemu: 'default',
      nics: [],
      allowLocalDevices: false,
      ...overrides,
    };
  }

  /** Writes known_hosts (in the temp folder) with this server's key; returns its path. */
  async writeKnownHosts(text?: string): Promise<string> {
    const file = join(this.dir, 'known_hosts');
    await writeFile(file, text ?? `${await this.knownHostsLine()}\n`, { mode: 0o600 });
    return file;
  }

  /** The per-connection sshd processes (one per client connection), e.g. to SIGSTOP them. */
  async connectionPids(): Promise<number[]> {
    const listener = this.process?.pid;
    if (listener === undefined) return [];
    const children = (await processTable()).filter((entry) => entry.ppid === listener).map((entry) => entry.pid);
    for (const pid of children) this.seenPids.add(pid);
    return children;
  }

  /** Kills the per-connection sshd processes: every client sees its connection drop. */
  async dropConnections(): Promise<number[]> {
    const listener = this.process?.pid;
    if (listener === undefined) return [];
    const table = await processTable();
    const children = table.filter((entry) => entry.ppid === listener).map((entry) => entry.pid);
    // Their sessions too: a command orphaned by the drop must not outlive the test.
    for (const pid of [...children, ...children.flatMap((child) => descendantsOf(child, table))]) {
      this.seenPids.add(pid);
      killQuietly(pid, 'SIGKILL');
    }
    return children;
  }

  /** Kills the listener and all its descendants, waits for the listener, removes the folder. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const descendants = descendantsOf(child.pid, await processTable());
      for (const pid of descendants) {
        this.seenPids.add(pid);
        killQuietly(pid, 'SIGKILL');
      }
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Pids from `seenPids` that still run (a zombie has ended and only waits to be reaped). */
  async leftoverPids(): Promise<number[]> {
    const alive = new Set((await processTable()).filter((entry) => entry.state !== 'Z').map((entry) => entry.pid));
    return [...this.seenPids].filter((pid) => alive.has(pid));
  }

  private config(extra: readonly string[]): string {
    return [
      `Port ${this.port}`,
      `ListenAddress ${this.host}`,
      `HostKey ${this.hostKeyFile}`,
      `PidFile ${join(this.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
      // The temp folder's parents are world-writable (/tmp): StrictModes would refuse the keys.
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowStreamLocalForwarding yes',
      'AllowTcpForwarding yes',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      'LogLevel VERBOSE',
      // bash reads ~/.bashrc for commands run by sshd only when it is the top-level shell
      // (shell_level < 2); SHLVL=1 makes it the second, so tests do not depend on (or get slowed
      // or hung by) whatever the machine's rc files do, e.g. pyenv's rehash lock.
      'SetEnv SHLVL=1',
      ...extra,
      '',
    ].join('\n');
  }

  private async launch(timeoutMs: number): Promise<void> {
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    if (child.pid !== undefined) this.seenPids.add(child.pid);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => this.logLines.push(...text.trimEnd().split('\n')));
    // Listening is announced on stderr once the socket is bound; then one real connection proves it.
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => finish(new Error(`sshd on ${this.host}:${this.port} did not start listening within ${timeoutMs} ms; its log:\n${this.log}`)), timeoutMs);
      const onData = () => {
        if (this.logLines.some((line) => line.includes(`Server listening on ${this.host} port ${this.port}`))) finish(undefined);
      };
      const onExit = (code: number | null) => finish(new Error(`sshd exited (code ${code}) before listening on ${this.host}:${this.port}; its log:\n${this.log}`));
      const finish = (error: Error | undefined) => {
        clearTimeout(deadline);
        child.stderr?.removeListener('data', onData);
        child.removeListener('exit', onExit);
        if (error === undefined) resolve();
        else reject(error);
      };
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
    });
    await acceptsConnection(this.host, this.port);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function acceptsConnection(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('data', (banner: Buffer) => {
      socket.destroy();
      if (banner.toString('latin1').startsWith('SSH-')) resolve();
      else reject(new Error(`${host}:${port} answered without an SSH banner: ${banner.toString('latin1').slice(0, 80)}`));
    });
    socket.once('error', reject);
  });
}

interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** R, S, D, Z, ... from /proc/PID/stat. */
  readonly state: string;
}

async function processTable(): Promise<ProcessEntry[]> {
  const entries: ProcessEntry[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${name}/stat`, 'utf8');
    } catch (error) {
      // The process ended between readdir and read: it is simply not in the table.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') continue;
      throw error;
    }
    // The command name is in parentheses and may contain spaces; fields after it are fixed.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    entries.push({ pid: Number(name), state: afterName[0] ?? '?', ppid: Number(afterName[1]) });
  }
  return entries;
}

function descendantsOf(root: number, table: readonly ProcessEntry[]): number[] {
  const found: number[] = [];
  let frontier = [root];
  while (frontier.length > 0) {
    const children = table.filter((entry) => frontier.includes(entry.ppid)).map((entry) => entry.pid);
    found.push(...children);
    frontier = children;
  }
  return found;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    // Already gone is the outcome we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
