import { HarnessError } from '../../errors.js';
import type { TestScope } from '../TestScope.js';
import { DiagnosedFailure } from './DiagnosedFailure.js';
import { diagnoseFailure } from './diagnoseFailure.js';

/**
 * Runs a step that sets the lab up for a test (copying images, preparing a host's folders, its
 * mdevs, its undo journal): whatever fails there, nothing of the product has run, so the failure
 * is the lab's ERROR even when the error underneath (a command that exited non-zero) would read as
 * a product FAIL by its class. The diagnosis goes into the test's result.
 */
export async function inLabSetup<T>(scope: TestScope, what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof HarnessError && error.isInfrastructure) throw error;
    const diagnosis = diagnoseFailure({ phase: 'lab-setup', devicesUnderTest: [], control: null });
    scope.diagnoses.push(diagnosis);
    throw new DiagnosedFailure(diagnosis, what, error);
  }
}
