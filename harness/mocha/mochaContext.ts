import type { Capability } from '../host/capabilities.js';
import type { LabCapability } from '../session/labCapabilities.js';
import type { LabSession } from '../session/LabSession.js';
import type { TestScope } from '../session/TestScope.js';

declare module 'mocha' {
  interface Context {
    /** The run's session on its host pair (set by the root hooks of `hil run`). */
    lab: LabSession;
    /** The current test's scope: teardown, artifacts, migrations, labels. */
    scope: TestScope;
  }
  interface Runnable {
    /** What the reporter reads about a test after it ran. */
    hilScope?: TestScope;
    hilSkipReason?: string;
  }
}

/**
 * Skips the current test unless both hosts of the pair have the capabilities, naming what is
 * missing (design.md §5: never faked as passing).
 */
export function requireCapabilities(context: Mocha.Context, needed: readonly (Capability | LabCapability)[]): void {
  const reason = context.lab.missingCapabilities(needed);
  if (reason !== null) {
    if (context.test !== undefined) context.test.hilSkipReason = reason;
    context.skip();
  }
}
