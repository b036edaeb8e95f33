import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { hostKeyPath } from './labKeys.js';
import type { HostLayout } from './labLayout.js';
import { processArgv, readPidFile, stopProcesses } from './processes.js';
import { VirtualLabError } from './VirtualLabError.js';
import { waitFor } from '../waitFor.js';

export const SSHD_BINARY = '/usr/sbin/sshd';

export interface SshdStatus {
  readonly host: string;
  readonly pid?: number;
  readonly isRunning: boolean;
  /** A TCP connection from the controller got an SSH banner. */
  readonly isAnswering: boolean;
  readonly banner?: string;
  readonly logFile: string;
}

export type BannerResult = { readonly banner: string } | { readonly failure: string };

/** Connects and reads the SSH identification line, or says why there was none. */
export function readSshBanner(address: string, port: number, timeoutMs: number): Promise<BannerResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    let received = '';
    const finish = (result: BannerResult): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ failure: `no banner within ${timeoutMs} ms` }));
    socket.on('error', (error) => finish({ failure: error.message }));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (!received.includes('\n')) return;
      const line = (received.split('\n')[0] ?? '').trim();
      finish(line.startsWith('SSH-') ? { banner: line } : { failure: `not an SSH server: "${line.slice(0, 80)}"` });
    });
  });
}

/** One virtual host's OpenSSH daemon, run inside the host's namespace with its own files. */
export class HostSshd {
  readonly configFile: string;
  readonly pidFile: string;
  readonly logFile: string;

  constructor(
    private readonly host: HostLayout,
    private readonly authorizedKeysFile: string,
    private readonly runner: CommandRunner,
  ) {
    this.configFile = join(host.sshdDir, 'sshd_config');
    this.pidFile = join(host.sshdDir, 'sshd.pid');
    this.logFile = join(host.sshdDir, 'sshd.log');
  }

  renderConfig(): string {
    const q = (path: string): string => `"${path}"`;
    return [
      `# Written by vfio-hil (harness/virtual-lab) for ${this.host.hostName}; \`hil lab up\` rewrites it.`,
      `# Started in namespace ${this.host.namespace} with ${this.host.homeDir} mounted over ${this.host.user}'s home.`,
      `ListenAddress ${this.host.address}:${this.host.sshPort}`,
      `HostKey ${q(hostKeyPath(this.host))}`,
      `PidFile ${q(this.pidFile)}`,
      `AuthorizedKeysFile ${q(this.authorizedKeysFile)}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The state folder may be group/world-writable in a checkout: StrictModes would refuse it.
      'StrictModes no',
      'AllowStreamLocalForwarding yes',
      'AllowTcpForwarding yes',
      'StreamLocalBindUnlink yes',
      'X11Forwarding no',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxSessions 64',
      'MaxStartups 64',
      'Subsystem sftp internal-sftp',
      'LogLevel VERBOSE',
      '',
    ].join('\n');
  }

  /** The sshd's pid when its pid file names a live process that is this host's sshd. */
  runningPid(): number | undefined {
    const pid = readPidFile(this.pidFile);
    if (pid === undefined) return undefined;
    // sshd rewrites its argv into "sshd: /usr/sbin/sshd -f <config> ... [listener] ...".
    const command = (processArgv(pid) ?? []).join(' ');
    return command.includes('sshd') && command.includes(this.configFile) ? pid : undefined;
  }

  /** Starts sshd unless it already runs with the current config; returns whether it (re)started. */
  async ensureRunning(timeoutMs: number): Promise<boolean> {
    mkdirSync(this.host.sshdDir, { recursive: true });
    const config = this.renderConfig();
    const isConfigCurrent = existsSync(this.configFile) && readFileSync(this.configFile, 'utf8') === config;
    const pid = this.runningPid();
    if (pid !== undefined && isConfigCurrent && 'banner' in (await this.banner(1_000))) return false;
    if (pid !== undefined) await stopProcesses([pid], `sshd of ${this.host.hostName}`);
    writeFileSync(this.configFile, config);
    rmSync(this.pidFile, { force: true });
    // Privilege separation directory: sshd refuses to start without it.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    await runChecked(this.runner, sh`${SSHD_BINARY} -t -f ${this.configFile}`);
    const home = await this.loginHome();
    mkdirSync(this.host.homeDir, { recursive: true, mode: 0o700 });
    // The controller's own dotfiles (a pyenv or conda hook in root's .bashrc) would run in every
    // SSH session and can hang it: each host gets a home of its own, as a real host has. The bind
    // mount lives in the mount namespace `ip netns exec` makes (a slave of /), so it never shows
    // on the controller and dies with the sshd.
    const start = sh`mount --bind ${this.host.homeDir} ${home} && exec ${SSHD_BINARY} -f ${this.configFile} -E ${this.logFile}`;
    await runChecked(this.runner, sh`ip netns exec ${this.host.namespace} /bin/sh -c ${start}`);
    await this.waitUntilAnswering(timeoutMs);
    return true;
  }

  private async loginHome(): Promise<string> {
    const entry = (await this.runner.run(sh`getent passwd ${this.host.user}`)).stdout.trim();
    const home = entry.split(':')[5];
    if (home === undefined || home === '' || home === '/') {
      throw new VirtualLabError('LAB_USER_UNKNOWN', `hosts.${this.host.hostName}.user "${this.host.user}" has no usable home on the controller (getent passwd: "${entry}")`);
    }
    return home;
  }

  async waitUntilAnswering(timeoutMs: number): Promise<string> {
    return waitFor(
      `sshd of ${this.host.hostName} to answer on ${this.host.address}:${this.host.sshPort} (log: ${this.logFile})`,
      async () => {
        const pid = this.runningPid();
        if (pid === undefined) return { isDone: false, seen: `no live sshd behind ${this.pidFile}` };
        const answer = await this.banner(500);
        return 'banner' in answer ? { isDone: true, value: answer.banner } : { isDone: false, seen: `sshd pid ${pid} running; ${answer.failure}` };
      },
      { timeoutMs, onTimeout: (what: string, ms: number, lastSeen: string) => new VirtualLabError('LAB_WAIT_TIMEOUT', `Timed out after ${ms} ms waiting for ${what}; last seen: ${lastSeen}`, { data: { what, timeoutMs: ms, lastSeen } }) },
    );
  }

  banner(timeoutMs: number): Promise<BannerResult> {
    return readSshBanner(this.host.address, this.host.sshPort, timeoutMs);
  }

  async stop(): Promise<void> {
    const pid = this.runningPid();
    if (pid !== undefined) await stopProcesses([pid], `sshd of ${this.host.hostName}`);
    rmSync(this.pidFile, { force: true });
  }

  async status(): Promise<SshdStatus> {
    const pid = this.runningPid();
    const answer = pid === undefined ? undefined : await this.banner(1_000);
    const banner = answer !== undefined && 'banner' in answer ? answer.banner : undefined;
    return {
      host: this.host.hostName,
      ...(pid === undefined ? {} : { pid }),
      isRunning: pid !== undefined,
      isAnswering: banner !== undefined,
      ...(banner === undefined ? {} : { banner }),
      logFile: this.logFile,
    };
  }
}
