import type { TestScope } from '../session/TestScope.js';

/**
 * Ctrl-C during `hil run`: the first SIGINT ends the current test by running its teardown at once
 * (its VMs stop, so whatever it waits for fails fast), stops mocha after it, and marks the run
 * incomplete; the second exits at once, leaving the host journals for the next run to replay.
 */
export class RunInterrupt {
  /** The test running now; its teardown is what the first Ctrl-C runs. */
  currentScope: TestScope | null = null;
  private interruptedAtMs: number | null = null;
  private readonly abortHandlers: (() => void)[] = [];
  private readonly listener = (): void => this.onSignal();

  constructor(private readonly say: (line: string) => void, private readonly exitNow: (code: number) => void) {}

  get isInterrupted(): boolean {
    return this.interruptedAtMs !== null;
  }

  install(): void {
    process.on('SIGINT', this.listener);
  }

  uninstall(): void {
    process.off('SIGINT', this.listener);
  }

  onAbort(handler: () => void): void {
    this.abortHandlers.push(handler);
  }

  private onSignal(): void {
    if (this.interruptedAtMs !== null) {
      this.say('Second interrupt: exiting now. The undo journals on the hosts stay; the next run (or `hil host restore`) replays them.');
      this.exitNow(130);
      return;
    }
    this.interruptedAtMs = Date.now();
    this.say('Interrupted: ending the current test, tearing down and writing a partial report (Ctrl-C again to exit at once).');
    for (const abort of this.abortHandlers) abort();
    const scope = this.currentScope;
    if (scope !== null) {
      void scope.teardown.run().catch((error: unknown) => this.say(`teardown after interrupt: ${String(error)}`));
    }
  }
}
