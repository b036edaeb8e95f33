import { HarnessError } from '../../errors.js';
import type { Diagnosis } from '../../report/Diagnosis.js';

/**
 * A failure whose lab-or-product verdict came from its diagnosis (phase and control run), not
 * from the class of the error underneath: a lab ERROR when the diagnosis says so, a product FAIL
 * otherwise. The original error is its cause.
 */
export class DiagnosedFailure extends HarnessError {
  constructor(
    readonly diagnosis: Diagnosis,
    what: string,
    cause: unknown,
  ) {
    const isSetup = diagnosis.phase === 'lab-setup';
    const code = isSetup ? 'LAB_SETUP_FAILED' : diagnosis.outcome === 'FAIL' ? 'GUEST_FAILED_WITH_DEVICE' : 'GUEST_FAILED_ON_LAB';
    const verdict = diagnosis.outcome === 'FAIL' ? 'a product FAIL' : 'a lab ERROR, not a product verdict';
    const action = isSetup ? 'fix the lab: the cause below says what failed'
      : diagnosis.outcome === 'FAIL' ? 'compare the two console transcripts attached to the test'
        : 'check the guest image and the host (both console transcripts are attached)';
    super(code, `${what}: ${diagnosis.why}; ${verdict}. ${action[0]!.toUpperCase()}${action.slice(1)}.`, { cause, data: { diagnosis } });
  }

  override get isInfrastructure(): boolean {
    return this.diagnosis.outcome === 'ERROR';
  }
}
