import type { LabConfig } from '../config/types.js';
import { HarnessError } from '../errors.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import type { LinkControl } from '../host/LinkControl.js';
import { sh } from '../shell.js';
import { labLayout } from './labLayout.js';

const IP_TIMEOUT_MS = 10_000;

/**
 * The virtual lab's inter-host link: each host reaches the others through its veth port on the
 * bridge in the switch namespace (labLayout). Taking that port down cuts the host off the lab
 * network — migration traffic, and also the controller's SSH to that host, so a cut must stay
 * shorter than the SSH keepalive allowance (3 × 5 s by default).
 */
export class VirtualLinkControl implements LinkControl {
  private constructor(
    readonly switchNamespace: string,
    private readonly ports: ReadonlyMap<string, string>,
    private readonly runner: CommandRunner,
  ) {}

  static forLab(lab: LabConfig, runner: CommandRunner): VirtualLinkControl {
    const layout = labLayout(lab);
    return new VirtualLinkControl(layout.switchNamespace, new Map(layout.hosts.map((h) => [h.hostName, h.switchPort])), runner);
  }

  /** Null when links can be cut from here; otherwise why not. */
  async whyUnusable(): Promise<string | null> {
    if (process.getuid?.() !== 0) return 'cutting a link in the switch namespace needs root on the controller';
    const result = await this.runner.run('ip -j netns list', { timeoutMs: IP_TIMEOUT_MS });
    if (result.exitCode !== 0) return `ip netns list failed: ${result.stderr.trim()}`;
    const names = (JSON.parse(result.stdout.trim() === '' ? '[]' : result.stdout) as { name: string }[]).map((n) => n.name);
    return names.includes(this.switchNamespace) ? null : `the switch namespace ${this.switchNamespace} does not exist (is the lab up?)`;
  }

  describe(host: string): string {
    return `veth ${this.port(host)} in namespace ${this.switchNamespace}`;
  }

  async cut(host: string): Promise<void> {
    await runChecked(this.runner, sh`ip -n ${this.switchNamespace} link set dev ${this.port(host)} down`, { timeoutMs: IP_TIMEOUT_MS });
  }

  async restore(host: string): Promise<void> {
    await runChecked(this.runner, sh`ip -n ${this.switchNamespace} link set dev ${this.port(host)} up`, { timeoutMs: IP_TIMEOUT_MS });
  }

  async isUp(host: string): Promise<boolean> {
    const result = await runChecked(this.runner, sh`ip -n ${this.switchNamespace} -j link show dev ${this.port(host)}`, { timeoutMs: IP_TIMEOUT_MS });
    const [link] = JSON.parse(result.stdout) as { flags?: string[] }[];
    return link?.flags?.includes('UP') === true;
  }

  private port(host: string): string {
    const port = this.ports.get(host);
    if (port === undefined) throw new HarnessError('LINK_UNKNOWN_HOST', `The virtual lab has no switch port for host "${host}"; hosts: ${[...this.ports.keys()].join(', ')}`);
    return port;
  }
}
