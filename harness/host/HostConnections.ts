import type { HostSpec, LabConfig } from '../config/types.js';
import type { Environment } from '../config/environment.js';
import { SshTransport } from '../ssh/SshTransport.js';

/** An SSH connection to a lab host that ended without close(): the lab failed at that moment. */
export interface SshDrop {
  readonly host: string;
  /** Controller clock (Date.now()). */
  readonly atMs: number;
  readonly message: string;
}

/**
 * One SSH transport per lab host, opened on first use and closed together. Callers borrow a
 * transport; they never close it themselves.
 */
export class HostConnections {
  private readonly transports = new Map<string, SshTransport>();
  /** Every drop since these connections were made, oldest first (a later open() reconnects). */
  readonly drops: SshDrop[] = [];

  constructor(private readonly lab: LabConfig, private readonly environment: Environment) {}

  transportFor(host: HostSpec): SshTransport {
    let transport = this.transports.get(host.name);
    if (transport === undefined) {
      transport = new SshTransport(host, {
        connectTimeoutMs: this.lab.defaults.timeouts.sshConnectMs,
        commandTimeoutMs: this.lab.defaults.timeouts.commandMs,
        resolveHost: (name) => this.lab.hosts[name],
        sshConfigFile: this.environment.sshConfigFile,
        homeDir: this.environment.homeDir,
        ...(this.environment.sshAuthSock !== undefined ? { agentSocket: this.environment.sshAuthSock } : {}),
      });
      // Kept so a test failing after a drop is reported as the lab's ERROR, not a product FAIL.
      transport.onDisconnect((error) => this.drops.push({ host: host.name, atMs: Date.now(), message: error.message }));
      this.transports.set(host.name, transport);
    }
    return transport;
  }

  /** The host's transport, open. */
  async open(host: HostSpec): Promise<SshTransport> {
    const transport = this.transportFor(host);
    if (transport.state === 'new' || transport.state === 'disconnected') await transport.open();
    return transport;
  }

  async closeAll(): Promise<void> {
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.allSettled(all.map((t) => t.close()));
  }
}
