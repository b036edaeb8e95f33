import type { HostSpec } from '../config/types.js';
import { GuestConsole } from '../console/GuestConsole.js';
import type { QemuProcess } from '../qemu/QemuProcess.js';
import type { QmpClient } from '../qmp/QmpClient.js';
import { errorMessage, HarnessError } from '../errors.js';
import { waitForGuestShell } from '../guest/waitForGuestShell.js';
import type { ProbeReply, ProbeStream } from '../measure/ProbeStream.js';
import type { FailurePhase } from '../report/Diagnosis.js';

/**
 * Turns a failure of the guest before the behaviour under test (a boot that never reached its
 * shell, a console that stopped answering while a device was prepared) into its diagnosed error:
 * a product FAIL or a lab ERROR (diagnoseFailure, with a control run where it is ambiguous).
 */
export type GuestFailureDiagnoser = (vm: LabVm, phase: FailurePhase, error: unknown) => Promise<Error>;

/** A VM the session launched on a lab host: its QEMU process, QMP and (on demand) its console. */
export class LabVm {
  private console: GuestConsole | null = null;

  constructor(
    readonly host: HostSpec,
    readonly role: string,
    readonly process: QemuProcess,
    private readonly consoleArgv: readonly string[],
    private readonly transcriptPath: string,
    private readonly diagnose: GuestFailureDiagnoser,
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
   * Waits for the guest's shell on its console. A guest that resets itself before it answers, hangs,
   * or whose console goes away is diagnosed (LabSession: a control boot of the same guest without
   * its devices under test decides between the product's FAIL and the lab's ERROR).
   */
  async waitForShell(timeoutMs: number): Promise<void> {
    try {
      await this.waitForShellAnswer(timeoutMs);
    } catch (error) {
      throw await this.diagnose(this, 'guest-boot', error);
    }
  }

  /** Waits for the guest's first echo reply on a probe stream; a guest that never answers is diagnosed as in waitForShell. */
  async waitForEcho(probe: ProbeStream, timeoutMs: number): Promise<ProbeReply> {
    try {
      return await probe.waitForReply(timeoutMs);
    } catch (error) {
      throw await this.diagnose(this, 'guest-boot', error);
    }
  }

  /**
   * Runs a guest action that makes a device under test ready (binding it to vfio-pci in the guest,
   * switching its domain): a console that stops answering or a guest that resets meanwhile is
   * diagnosed, as a boot failure is.
   */
  async prepareDevice<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw await this.diagnose(this, 'device-preparation', error);
    }
  }

  /** Whether the guest reaches its shell within timeoutMs, undiagnosed: for a control run. */
  async tryBoot(timeoutMs: number): Promise<{ readonly hasBooted: boolean; readonly detail: string }> {
    try {
      await this.waitForShellAnswer(timeoutMs);
      return { hasBooted: true, detail: 'its shell answered' };
    } catch (error) {
      return { hasBooted: false, detail: `${error instanceof HarnessError ? `[${error.code}] ` : ''}${errorMessage(error)}` };
    }
  }

  /**
   * A guest that resets itself before its shell answers (QMP RESET from the guest: a triple fault,
   * or a panic with panic=-1) ends the wait at once: waiting longer would see the same boot again.
   */
  private async waitForShellAnswer(timeoutMs: number): Promise<void> {
    await waitForGuestShell(this.openConsole(), timeoutMs, {
      onTimeout: (what, ms, lastSeen) => new HarnessError('GUEST_NOT_READY', `${this.name} on ${this.host.name}: the guest's shell did not answer within ${ms} ms, it did not finish booting (waiting for ${what}; last seen: ${lastSeen}); see its serial log`, { data: { vm: this.name, host: this.host.name } }),
      whyAbandon: () => {
        const resets = this.qmp.history.filter((e) => e.name === 'RESET' && e.data['guest'] === true);
        if (resets.length === 0) return null;
        return new HarnessError('GUEST_RESET_BEFORE_SHELL', `${this.name} on ${this.host.name}: the guest reset itself ${resets.length} time(s) before its shell answered (QMP RESET, reason ${String(resets[0]!.data['reason'] ?? 'not given')}); see its serial log`, { data: { vm: this.name, host: this.host.name } });
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
