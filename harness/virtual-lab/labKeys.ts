import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LabConfig } from '../config/types.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import type { HostLayout, LabLayout } from './labLayout.js';
import { VirtualLabError } from './VirtualLabError.js';

export function hostKeyPath(host: HostLayout): string {
  return join(host.sshdDir, 'ssh_host_ed25519_key');
}

/** "10.231.0.11" for port 22, "[10.231.0.11]:2222" otherwise: OpenSSH's plain known_hosts form. */
export function knownHostsName(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

/** Keeps other hosts' lines; replaces (or adds) one line per lab host. */
export function mergeKnownHosts(existing: string, entries: ReadonlyMap<string, string>): string {
  const kept = existing.split('\n').filter((line) => line.trim() !== '' && !entries.has(line.split(/\s+/)[0] ?? ''));
  return [...kept, ...[...entries].map(([name, key]) => `${name} ${key}`)].map((l) => `${l}\n`).join('');
}

async function ensureKeyPair(runner: CommandRunner, path: string, comment: string): Promise<string> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) await runChecked(runner, sh`ssh-keygen -q -t ed25519 -N ${''} -C ${comment} -f ${path}`);
  if (!existsSync(`${path}.pub`)) {
    writeFileSync(`${path}.pub`, (await runChecked(runner, sh`ssh-keygen -y -f ${path}`)).stdout);
  }
  // ssh refuses a private key that others can read.
  chmodSync(path, 0o600);
  const publicKey = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  if (!publicKey.startsWith('ssh-')) throw new VirtualLabError('LAB_KEY_INVALID', `${path}.pub does not hold an OpenSSH public key`);
  return publicKey;
}

function writeIfChanged(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path) || readFileSync(path, 'utf8') !== content) writeFileSync(path, content, { mode });
}

/**
 * Client key(s), one host key per host, the shared authorized_keys, and known_hosts entries for
 * every host's address. Keys are made once and kept (they are a cache, like the guest image).
 */
export async function ensureLabKeys(config: LabConfig, layout: LabLayout, runner: CommandRunner): Promise<void> {
  const clientKeys = new Set<string>();
  for (const host of Object.values(config.hosts)) {
    if (host.identityFile === undefined) {
      throw new VirtualLabError('LAB_KEY_MISSING', `${config.file}: hosts.${host.name}.identityFile is required in a virtual lab: the lab makes that key and authorizes it`);
    }
    clientKeys.add(await ensureKeyPair(runner, host.identityFile, `vfio-hil ${config.name} lab`));
  }
  writeIfChanged(layout.authorizedKeysFile, [...clientKeys].map((k) => `${k}\n`).join(''), 0o600);

  const byKnownHostsFile = new Map<string, Map<string, string>>();
  for (const hostLayout of layout.hosts) {
    const hostKey = await ensureKeyPair(runner, hostKeyPath(hostLayout), `vfio-hil ${hostLayout.hostName}`);
    const file = config.hosts[hostLayout.hostName]?.knownHosts;
    if (file === undefined) continue;
    const entries = byKnownHostsFile.get(file) ?? new Map<string, string>();
    entries.set(knownHostsName(hostLayout.address, hostLayout.sshPort), hostKey);
    byKnownHostsFile.set(file, entries);
  }
  for (const [file, entries] of byKnownHostsFile) {
    writeIfChanged(file, mergeKnownHosts(existsSync(file) ? readFileSync(file, 'utf8') : '', entries), 0o644);
  }
}
