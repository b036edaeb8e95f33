import type { ControlRun, Diagnosis, FailurePhase } from '../../report/Diagnosis.js';

/**
 * Lab ERROR or product FAIL, decided by what the run was doing when it failed (design.md §7,
 * "Diagnosis, not exception class") and, where that is ambiguous, by a control run.
 *
 * - lab-setup: connecting, provisioning, copying images, a QEMU that cannot start because its
 *   installation is broken. Nothing of the product has run yet: ERROR.
 * - guest-boot / device-preparation: a guest that resets, hangs, or whose console stops answering
 *   before it reached the behaviour under test. With a device under test (VFIO device, mdev,
 *   vIOMMU) attached this is ambiguous: the same guest is booted without them on the same host at
 *   once. The control boots: the failure came with the device, FAIL. The control fails too (or
 *   could not be run): the lab cannot boot this guest, ERROR. Without a device under test there
 *   is nothing of the product in the boot: ERROR.
 * - under-test: the behaviour the test is about (the migration and what follows): FAIL.
 */
export interface FailureFacts {
  readonly phase: FailurePhase;
  /** The devices under test the failed VM had ("mdev hil0 (uuid …)", "vIOMMU intel-iommu"); empty: none. */
  readonly devicesUnderTest: readonly string[];
  /** The control run, when one was made; null when none was (and `controlError` says why, if it was tried). */
  readonly control: ControlRun | null;
  /** The control could not even be launched (its QEMU failed to start, the host went away): why. */
  readonly controlError?: string;
  /** Report paths of the failed VM's console transcript and serial log. */
  readonly artifacts?: readonly string[];
}

/** Whether a failure in this phase with these devices needs a control run before it can be judged. */
export function needsControl(phase: FailurePhase, devicesUnderTest: readonly string[]): boolean {
  return (phase === 'guest-boot' || phase === 'device-preparation') && devicesUnderTest.length > 0;
}

export function diagnoseFailure(facts: FailureFacts): Diagnosis {
  const { phase, devicesUnderTest, control } = facts;
  const base = { phase, devicesUnderTest, control, artifacts: facts.artifacts ?? [] };
  const devices = devicesUnderTest.join(', ');
  const when = phase === 'guest-boot' ? 'before its shell answered' : 'while its device was being prepared';
  switch (phase) {
    case 'lab-setup':
      return { ...base, outcome: 'ERROR', why: 'the lab failed while it was being set up, before anything of the product ran' };
    case 'under-test':
      return { ...base, outcome: 'FAIL', why: 'the behaviour under test failed' };
    case 'guest-boot':
    case 'device-preparation':
      if (devicesUnderTest.length === 0) {
        return { ...base, outcome: 'ERROR', why: `the guest failed ${when} with no device under test attached: the lab cannot run this guest` };
      }
      if (control === null) {
        return { ...base, outcome: 'ERROR', why: `the guest with ${devices} failed ${when} and no control could be run (${facts.controlError ?? 'not attempted'}): not a product verdict` };
      }
      return control.hasBooted
        ? { ...base, outcome: 'FAIL', why: `the guest with ${devices} failed ${when}, and the same guest without them booted on ${control.host} (${control.vm}): the failure comes with the device under test` }
        : { ...base, outcome: 'ERROR', why: `the guest with ${devices} failed ${when}, and the same guest without them failed to boot too on ${control.host} (${control.vm}: ${control.detail}): the lab cannot boot this guest` };
  }
}
