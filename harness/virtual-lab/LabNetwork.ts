import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { isLabName, type LabLayout } from './labLayout.js';
import { VirtualLabError } from './VirtualLabError.js';

/** One interface as `ip -j -d link show` reports it. */
export interface LinkState {
  readonly name: string;
  /** "bridge", "veth", "tun", ... (absent for plain devices such as lo). */
  readonly kind?: string;
  readonly master?: string;
  readonly isUp: boolean;
  readonly mac?: string;
  /** IPv4 addresses as "10.231.0.11/24". */
  readonly addresses: readonly string[];
}

/** An interface the layout expects, and what was found. */
export interface ExpectedLink {
  /** Namespace, or "" for the controller's (root) namespace. */
  readonly namespace: string;
  readonly name: string;
  readonly kind: 'bridge' | 'veth' | 'tun';
  readonly master?: string;
  /** Bridges only: the fixed MAC the layout gives them. */
  readonly mac?: string;
  readonly isPresent: boolean;
  /** Present, up, and enslaved to the expected bridge. */
  readonly isHealthy: boolean;
}

export interface NetworkStatus {
  readonly namespaces: readonly { readonly name: string; readonly isPresent: boolean }[];
  readonly links: readonly ExpectedLink[];
  /** Namespaces with the lab's prefix that the layout does not name (left by an older lab file). */
  readonly strayNamespaces: readonly string[];
  readonly isComplete: boolean;
}

interface RawLink {
  ifname: string;
  flags?: string[];
  master?: string;
  address?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

const IP_TIMEOUT_MS = 20_000;

/**
 * TCP buffer sysctls (min, default, max bytes) of every host namespace. The kernel's defaults let
 * a receive buffer grow to 32 MiB; on a veth with a round trip of microseconds, QEMU's migration
 * stream then runs megabytes ahead of what the destination QEMU has loaded, while the destination
 * shares this machine's CPUs. The stop-copy phase ends only when the destination has loaded it
 * all, so that backlog became downtime: up to 435 ms at a 100 ms target with busy CPUs, against
 * 8-18 ms with 512 KiB buffers (`node dist/bench/switchoverUnderLoad.js`; README). 512 KiB still
 * holds far more than a veth's bandwidth-delay product, so throughput is the same.
 */
export type TcpBuffers = Readonly<Record<'net.ipv4.tcp_rmem' | 'net.ipv4.tcp_wmem', string>>;

export const HOST_TCP_BUFFERS: TcpBuffers = {
  'net.ipv4.tcp_rmem': '4096 131072 524288',
  'net.ipv4.tcp_wmem': '4096 16384 524288',
};

/** The command that gives namespace `ns` these TCP buffer sizes. */
export function setTcpBuffersCommand(ns: string, buffers: TcpBuffers): string {
  return sh`ip netns exec ${ns} sysctl -qw ${Object.entries(buffers).map(([key, value]) => `${key}=${value}`)}`;
}

function isSameTcpBuffers(a: TcpBuffers, b: TcpBuffers): boolean {
  return a['net.ipv4.tcp_rmem'] === b['net.ipv4.tcp_rmem'] && a['net.ipv4.tcp_wmem'] === b['net.ipv4.tcp_wmem'];
}

/** Namespace `ns`'s TCP buffer sizes, as HOST_TCP_BUFFERS writes them. */
export async function readTcpBuffers(runner: CommandRunner, ns: string): Promise<TcpBuffers> {
  const keys = Object.keys(HOST_TCP_BUFFERS) as (keyof TcpBuffers)[];
  const result = await runChecked(runner, sh`ip netns exec ${ns} sysctl -n ${keys}`, { timeoutMs: IP_TIMEOUT_MS });
  const values = result.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/).join(' '));
  return { 'net.ipv4.tcp_rmem': values[0] ?? '', 'net.ipv4.tcp_wmem': values[1] ?? '' };
}

/**
 * The lab's L2 network: a switch namespace with a bridge; per host a namespace whose bridge holds
 * a veth uplink to the switch and the host's taps; a veth from the controller into the switch.
 * `up` creates what is missing and repairs masters/state; `down` deletes every namespace and root
 * link carrying the lab's prefix.
 */
export class LabNetwork {
  constructor(
    private readonly layout: LabLayout,
    private readonly runner: CommandRunner,
  ) {}

  get namespaces(): string[] {
    return [this.layout.switchNamespace, ...this.layout.hosts.map((h) => h.namespace)];
  }

  async listNamespaces(): Promise<string[]> {
    const result = await runChecked(this.runner, 'ip -j netns list', { timeoutMs: IP_TIMEOUT_MS });
    const parsed = result.stdout.trim() === '' ? [] : (JSON.parse(result.stdout) as { name: string }[]);
    return parsed.map((n) => n.name);
  }

  async listLinks(namespace: string): Promise<Map<string, LinkState>> {
    const command = namespace === '' ? 'ip -j -d addr show' : sh`ip -n ${namespace} -j -d addr show`;
    const result = await runChecked(this.runner, command, { timeoutMs: IP_TIMEOUT_MS });
    const links = new Map<string, LinkState>();
    for (const link of JSON.parse(result.stdout) as RawLink[]) {
      links.set(link.ifname, {
        name: link.ifname,
        ...(link.linkinfo?.info_kind === undefined ? {} : { kind: link.linkinfo.info_kind }),
        ...(link.master === undefined ? {} : { master: link.master }),
        ...(link.address === undefined ? {} : { mac: link.address }),
        isUp: link.flags?.includes('UP') ?? false,
        addresses: (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      });
    }
    return links;
  }

  /** The commands that bring the network from its current state to the layout; empty when done. */
  async planUp(): Promise<string[]> {
    const { layout } = this;
    const existing = new Set(await this.listNamespaces());
    const steps: string[] = [];
    const linksOf = async (ns: string): Promise<Map<string, LinkState>> => (existing.has(ns) || ns === '' ? this.listLinks(ns) : new Map());
    const sw = layout.switchNamespace;
    const swLinks = await linksOf(sw);

    for (const ns of this.namespaces) {
      if (!existing.has(ns)) {
        steps.push(sh`ip netns add ${ns}`);
        // IPv6 autoconfiguration chatter (RS, MLD, DAD) would ride the probe path: the lab is IPv4.
        steps.push(sh`ip netns exec ${ns} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1`);
      }
      const lo = (await linksOf(ns)).get('lo');
      if (lo?.isUp !== true) steps.push(sh`ip -n ${ns} link set lo up`);
    }
    this.ensureBridge(steps, sw, layout.switchBridge, layout.switchBridgeMac, swLinks.get(layout.switchBridge));

    const rootLinks = await linksOf('');
    const ctl = rootLinks.get(layout.controllerLink);
    if (ctl === undefined) {
      if (swLinks.has(layout.controllerPeer)) steps.push(sh`ip -n ${sw} link del ${layout.controllerPeer}`);
      steps.push(sh`ip link add ${layout.controllerLink} type veth peer name ${layout.controllerPeer} netns ${sw}`);
      steps.push(sh`sysctl -qw ${`net.ipv6.conf.${layout.controllerLink}.disable_ipv6=1`}`);
    }
    this.ensurePort(steps, sw, layout.controllerPeer, layout.switchBridge, ctl === undefined ? undefined : swLinks.get(layout.controllerPeer));
    if (!(ctl?.addresses.includes(layout.controllerAddressCidr) ?? false)) steps.push(sh`ip addr replace ${layout.controllerAddressCidr} dev ${layout.controllerLink}`);
    if (ctl?.isUp !== true) steps.push(sh`ip link set ${layout.controllerLink} up`);

    for (const host of layout.hosts) {
      const ns = host.namespace;
      const links = await linksOf(ns);
      const bridge = links.get(host.bridge);
      this.ensureBridge(steps, ns, host.bridge, host.bridgeMac, bridge);
      const uplink = links.get(host.uplink);
      if (uplink === undefined) {
        if (swLinks.has(host.switchPort)) steps.push(sh`ip -n ${sw} link del ${host.switchPort}`);
        steps.push(sh`ip -n ${ns} link add ${host.uplink} type veth peer name ${host.switchPort} netns ${sw}`);
      }
      this.ensurePort(steps, sw, host.switchPort, layout.switchBridge, uplink === undefined ? undefined : swLinks.get(host.switchPort));
      this.ensurePort(steps, ns, host.uplink, host.bridge, uplink);
      for (const tap of host.taps) {
        const state = links.get(tap);
        if (state === undefined) steps.push(sh`ip -n ${ns} tuntap add dev ${tap} mode tap`);
        this.ensurePort(steps, ns, tap, host.bridge, state);
      }
      if (!(bridge?.addresses.includes(host.addressCidr) ?? false)) steps.push(sh`ip -n ${ns} addr replace ${host.addressCidr} dev ${host.bridge}`);
      if (!existing.has(ns) || !isSameTcpBuffers(await readTcpBuffers(this.runner, ns), HOST_TCP_BUFFERS)) steps.push(setTcpBuffersCommand(ns, HOST_TCP_BUFFERS));
    }
    return steps;
  }

  private ensureBridge(steps: string[], ns: string, bridge: string, mac: string, state: LinkState | undefined): void {
    if (state !== undefined && state.kind !== 'bridge') {
      throw new VirtualLabError('LAB_NETWORK_CONFLICT', `Namespace ${ns} has an interface ${bridge} that is a ${state.kind ?? 'plain device'}, not a bridge: run \`hil lab down\` first`);
    }
    if (state === undefined) steps.push(sh`ip -n ${ns} link add ${bridge} type bridge`);
    if (state?.mac !== mac) steps.push(sh`ip -n ${ns} link set ${bridge} address ${mac}`);
    if (state?.isUp !== true) steps.push(sh`ip -n ${ns} link set ${bridge} up`);
  }

  /** Enslaves and raises a port unless `state` (undefined = just created) shows it already is. */
  private ensurePort(steps: string[], ns: string, port: string, bridge: string, state: LinkState | undefined): void {
    if (state?.master !== bridge || !state.isUp) steps.push(sh`ip -n ${ns} link set ${port} master ${bridge} up`);
  }

  /** Creates or repairs what is missing; returns the commands it ran (none when all was in place). */
  async up(): Promise<string[]> {
    const steps = await this.planUp();
    await this.runScript(steps);
    return steps;
  }

  /** Deletes the controller link and every namespace carrying the prefix. Processes must be gone. */
  async down(): Promise<string[]> {
    const prefix = this.layout.prefix;
    const removed: string[] = [];
    const steps: string[] = [];
    for (const link of (await this.listLinks('')).values()) {
      if (isLabName(prefix, link.name) && ['veth', 'bridge', 'tun'].includes(link.kind ?? '')) {
        steps.push(sh`ip link del ${link.name}`);
        removed.push(`link ${link.name}`);
      }
    }
    for (const ns of await this.listNamespaces()) {
      if (isLabName(prefix, ns)) {
        steps.push(sh`ip netns del ${ns}`);
        removed.push(`namespace ${ns}`);
      }
    }
    await this.runScript(steps);
    return removed;
  }

  async inspect(): Promise<NetworkStatus> {
    const { layout } = this;
    const present = new Set(await this.listNamespaces());
    const namespaces = this.namespaces.map((name) => ({ name, isPresent: present.has(name) }));
    const expected: Omit<ExpectedLink, 'isPresent' | 'isHealthy'>[] = [
      { namespace: '', name: layout.controllerLink, kind: 'veth' },
      { namespace: layout.switchNamespace, name: layout.switchBridge, kind: 'bridge', mac: layout.switchBridgeMac },
      { namespace: layout.switchNamespace, name: layout.controllerPeer, kind: 'veth', master: layout.switchBridge },
      ...layout.hosts.flatMap((h) => [
        { namespace: layout.switchNamespace, name: h.switchPort, kind: 'veth' as const, master: layout.switchBridge },
        { namespace: h.namespace, name: h.bridge, kind: 'bridge' as const, mac: h.bridgeMac },
        { namespace: h.namespace, name: h.uplink, kind: 'veth' as const, master: h.bridge },
        ...h.taps.map((tap) => ({ namespace: h.namespace, name: tap, kind: 'tun' as const, master: h.bridge })),
      ]),
    ];
    const byNamespace = new Map<string, Map<string, LinkState>>();
    for (const ns of new Set(expected.map((e) => e.namespace))) {
      byNamespace.set(ns, ns === '' || present.has(ns) ? await this.listLinks(ns) : new Map());
    }
    const links = expected.map((e): ExpectedLink => {
      const found = byNamespace.get(e.namespace)?.get(e.name);
      // A tap without QEMU behind it has no carrier but is administratively up: UP is what counts.
      const isHealthy = found !== undefined && found.kind === e.kind && found.isUp && found.master === e.master && (e.mac === undefined || found.mac === e.mac);
      return { ...e, isPresent: found !== undefined, isHealthy };
    });
    const strayNamespaces = [...present].filter((ns) => isLabName(layout.prefix, ns) && !this.namespaces.includes(ns));
    return { namespaces, links, strayNamespaces, isComplete: namespaces.every((n) => n.isPresent) && links.every((l) => l.isHealthy) };
  }

  private async runScript(steps: readonly string[]): Promise<void> {
    if (steps.length === 0) return;
    // One shell for all steps: `set -x` puts the failing command in the error's stderr tail.
    await runChecked(this.runner, ['set -ex', ...steps].join('\n'), { timeoutMs: IP_TIMEOUT_MS });
  }
}
