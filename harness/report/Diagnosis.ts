/**
 * A failed test's diagnosis as the report records it: what the run was doing, the devices under
 * test, the control run and the verdict with its reason. Decided by session/diagnosis; declared here
 * because report (below session) stores and shows it.
 */

/** What the run was doing when it failed (session/diagnosis/diagnoseFailure explains each). */
export type FailurePhase = 'lab-setup' | 'guest-boot' | 'device-preparation' | 'under-test';

export interface ControlRun {
  /** The control VM's name and host. */
  readonly vm: string;
  readonly host: string;
  readonly hasBooted: boolean;
  /** Why the control did not boot (its error), or what showed it booted. */
  readonly detail: string;
  /** Report paths of the control's console transcript and serial log. */
  readonly artifacts: readonly string[];
}

export interface Diagnosis {
  readonly outcome: 'ERROR' | 'FAIL';
  readonly phase: FailurePhase;
  readonly devicesUnderTest: readonly string[];
  readonly control: ControlRun | null;
  /** Report paths of the failed VM's console transcript and serial log (the control's are in `control`). */
  readonly artifacts: readonly string[];
  /** One sentence a reader of the report acts on. */
  readonly why: string;
}
