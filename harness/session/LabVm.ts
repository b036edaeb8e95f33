import type { HostSpec } from '../config/types.js';
import { GuestConsole } from '../console/GuestConsole.js';
import type { QemuProcess } from '../qemu/QemuProcess.js';
import type { QmpClient } from '../qmp/QmpClient.js';

/** A VM the session launched on a lab host: its QEMU process, QMP and (on demand) its console. */
export class LabVm {
  private console: GuestConsole | null = null;

  constructor(
    readonly host: HostSpec,
    readonly role: string,
    readonly process: QemuProcess,
    private readonly consoleArgv: readonly string[],
    private readonly transcriptPath: string,
  ) {}

  get name(): string {
    return this.process.spec.name;
  }

  get qmp(): QmpClient {
    return this.process.qmp;
  }

  /** The guest's serial console, attached on first use (QEMU serves one client at a time). */
  openConsole(): GuestConsole {
    if (this.console === null) {
      this.console = new GuestConsole({ argv: this.consoleArgv, where: `guest console of ${this.name} on ${this.host.name}`, transcriptPath: this.transcriptPath, defaultTimeoutMs: 30_000 });
      this.console.open();
    }
    return this.console;
  }

  closeConsole(): void {
    this.console?.close();
    this.console = null;
  }

  async stop(): Promise<void> {
    this.closeConsole();
    await this.process.stop();
  }
}
