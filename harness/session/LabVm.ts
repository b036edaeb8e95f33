import type { HostSpec } from '../config/types.js';
import { GuestConsole } from '../console/GuestConsole.js';
import type { QemuProcess } from '../qemu/QemuProcess.js';
import type { QmpClient } from '../qmp/QmpClient.js';
import { InfrastructureError } from '../errors.js';
import { waitForGuestShell } from '../guest/waitForGuestShell.js';

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

  /**
   * Waits for the guest's shell on its console. A guest that resets itself before it answers (QMP
   * RESET from the guest: a triple fault or a panic with panic=-1) ends the wait at once as a lab
   * failure: it has not reached anything a migration test judges. So is a guest whose shell does
   * not answer in time (GUEST_NOT_READY): it never finished booting. The nested lab's L2 guests do
   * both now and then (KVM on TCG's emulated SVM).
   */
  async waitForShell(timeoutMs: number): Promise<void> {
    await waitForGuestShell(this.openConsole(), timeoutMs, {
      onTimeout: (what, ms, lastSeen) => new InfrastructureError('GUEST_NOT_READY', `${this.name} on ${this.host.name}: the guest's shell did not answer within ${ms} ms, it did not finish booting (waiting for ${what}; last seen: ${lastSeen}); see its serial log`, { data: { vm: this.name, host: this.host.name } }),
      whyAbandon: () => {
        const resets = this.qmp.history.filter((e) => e.name === 'RESET' && e.data['guest'] === true);
        if (resets.length === 0) return null;
        return new InfrastructureError('GUEST_RESET_BEFORE_SHELL', `${this.name} on ${this.host.name}: the guest reset itself ${resets.length} time(s) before its shell answered (QMP RESET, reason ${String(resets[0]!.data['reason'] ?? 'not given')}); see its serial log`, { data: { vm: this.name, host: this.host.name } });
      },
    });
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
