import { execFileSync } from 'node:child_process';
import type { HostSpec, LabConfig } from '../../harness/config/types.js';
import { labLayout } from '../../harness/virtual-lab/labLayout.js';

/** The sshd processes that served one controller process's SSH connection, and what was killed. */
export interface KilledSession {
  /** The controller's end of the TCP connection ("10.231.0.1:49418"). */
  readonly controllerEnd: string;
  readonly sshdPids: readonly number[];
}

/** Established TCP sockets ss shows: local end, remote end, owning pids. */
function establishedSockets(netns: string | null, filter: string[]): { local: string; peer: string; pids: number[] }[] {
  const argv = [...(netns === null ? [] : ['netns', 'exec', netns]), 'ss', '-tnpH', 'state', 'established', ...filter];
  const text = netns === null ? execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 10_000 }) : execFileSync('ip', argv, { encoding: 'utf8', timeout: 10_000 });
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => {
    // With a state filter ss leaves the state column out: Recv-Q Send-Q Local Peer Process.
    const [, , local, peer] = line.trim().split(/\s+/);
    return { local: local!, peer: peer!, pids: [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])) };
  });
}

/**
 * Drops the SSH connection that `controllerPid` holds to `host` the way a crashing sshd would:
 * SIGKILL to the host-side sshd processes of that one connection (found from the host's
 * namespace by the connection's controller end), so the harness sees the TCP connection die
 * without a goodbye. Other connections to the host, and the listening sshd, are left alone.
 */
export function killSshSession(lab: LabConfig, host: HostSpec, controllerPid: number): KilledSession {
  const layout = labLayout(lab).hosts.find((h) => h.hostName === host.name);
  if (layout === undefined) throw new Error(`${host.name} is not a host of the virtual lab ${lab.name}`);
  const ours = establishedSockets(null, ['dst', `${host.address}:${host.port}`]).filter((s) => s.pids.includes(controllerPid));
  if (ours.length !== 1) throw new Error(`expected one SSH connection from pid ${controllerPid} to ${host.name}, found ${ours.length}: ${JSON.stringify(ours)}`);
  const controllerEnd = ours[0]!.local;
  const hostSide = establishedSockets(layout.namespace, ['src', `${host.address}:${host.port}`, 'dst', controllerEnd]);
  const sshdPids = [...new Set(hostSide.flatMap((s) => s.pids))];
  if (sshdPids.length === 0) throw new Error(`no sshd process of ${host.name} holds the connection from ${controllerEnd}`);
  for (const pid of sshdPids) process.kill(pid, 'SIGKILL');
  return { controllerEnd, sshdPids };
}
