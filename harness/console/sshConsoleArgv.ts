import type { HostSpec } from '../config/types.js';
import { HarnessError } from '../errors.js';
import { sh } from '../shell.js';

/** Printed by the attach command once the remote pty is raw: from then on every byte goes to the guest. */
export const CONSOLE_RAW_MARKER = '__HIL_CONSOLE_RAW__';

/**
 * The attach command for a VM's serial console on a remote host: the system's ssh client with a
 * remote pty, and socat joining it to QEMU's serial socket. Host keys are checked against the lab's
 * known_hosts, as the SSH transport checks them; no escape character, so no byte the harness
 * types (a "~B" at the start of a line would send a BREAK, a SysRq on a serial console) is ssh's.
 */
export function sshConsoleArgv(host: HostSpec, serialSocket: string, resolveHost: (name: string) => HostSpec | undefined): string[] {
  if (host.knownHosts === undefined) {
    throw new HarnessError('CONSOLE_NEEDS_KNOWN_HOSTS', `The console of a VM on ${host.name} goes through the ssh client, which needs hosts.${host.name}.knownHosts (a pinned hostKey is not enough for it).`);
  }
  const argv = [
    'ssh', '-tt', '-e', 'none', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${host.knownHosts}`,
    '-o', 'LogLevel=ERROR', '-o', 'ServerAliveInterval=5', '-p', String(host.port),
  ];
  if (host.identityFile !== undefined) argv.push('-i', host.identityFile, '-o', 'IdentitiesOnly=yes');
  if (host.jump !== undefined) {
    const jumpHost = resolveHost(host.jump);
    argv.push('-J', jumpHost === undefined ? host.jump : `${jumpHost.user}@${jumpHost.address}:${jumpHost.port}`);
  }
  // stty first: until the remote pty is raw, a Ctrl-C typed to the guest is a SIGINT that ends
  // the attach; the marker tells the harness when that can no longer happen (waitForGuestShell).
  argv.push(`${host.user}@${host.address}`, `stty raw -echo && printf '%s\\n' ${CONSOLE_RAW_MARKER} && ${sh`exec socat -,raw,echo=0 UNIX-CONNECT:${serialSocket}`}`);
  return argv;
}
