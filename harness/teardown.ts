import { HarnessError, errorMessage } from './errors.js';

/**
 * Teardown as a stack (design.md §4): acquire, then push its undo on the very next line. `run()`
 * undoes in reverse order, keeps going after a failure and reports every failure at the end.
 */
export class TeardownStack {
  private readonly steps: { name: string; undo: () => Promise<void> | void }[] = [];

  constructor(readonly scope: string) {}

  push(name: string, undo: () => Promise<void> | void): void {
    this.steps.push({ name, undo });
  }

  get size(): number {
    return this.steps.length;
  }

  async run(): Promise<void> {
    const failures: { name: string; error: unknown }[] = [];
    for (let step = this.steps.pop(); step !== undefined; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (error) {
        failures.push({ name: step.name, error });
      }
    }
    if (failures.length > 0) {
      const lines = failures.map((f) => `  - ${f.name}: ${errorMessage(f.error)}`).join('\n');
      throw new TeardownError(
        `Teardown of ${this.scope} had ${failures.length} failure(s):\n${lines}`,
        failures,
      );
    }
  }
}

export class TeardownError extends HarnessError {
  constructor(message: string, readonly failures: readonly { name: string; error: unknown }[]) {
    super('TEARDOWN_FAILED', message, { cause: failures[0]?.error, data: { steps: failures.map((f) => f.name) } });
  }
}
