import { errorMessage, HarnessError } from '../../errors.js';
import type { LabVm } from '../LabVm.js';
import type { LaunchOptions } from '../LaunchOptions.js';
import type { TestScope } from '../TestScope.js';
import { DiagnosedFailure } from './DiagnosedFailure.js';
import { devicesUnderTest, withoutDevicesUnderTest } from './devicesUnderTest.js';
import type { ControlRun, FailurePhase } from '../../report/Diagnosis.js';
import { diagnoseFailure, needsControl } from './diagnoseFailure.js';

export interface GuestFailureContext {
  readonly scope: TestScope;
  /** How the failed VM was launched: the control is launched the same way, less its devices under test. */
  readonly launch: LaunchOptions;
  readonly bootTimeoutMs: number;
  readonly launchVm: (scope: TestScope, options: LaunchOptions) => Promise<LabVm>;
}

/**
 * Diagnoses a guest that failed before the behaviour under test and returns the error to throw.
 * An error that is already the lab's (SSH lost, a host gone) stays as it is. Otherwise, when the
 * VM had a device under test, the failed VM is stopped (it holds the taps and devices the control
 * needs) and the same guest is booted without its devices under test on the same host; the
 * diagnosis, with both consoles, goes into the test's result.
 */
export async function diagnoseGuestFailure(context: GuestFailureContext, vm: LabVm, phase: FailurePhase, error: unknown): Promise<Error> {
  if (error instanceof HarnessError && error.isInfrastructure) return error;
  const { scope } = context;
  const devices = devicesUnderTest(vm.process.spec, context.launch.deviceUnderTestArgs);
  const consoles = (role: string) => [`${scope.artifactsSubdir}/${role}.console.log`, `${scope.artifactsSubdir}/${role}.serial.log`];
  let control: ControlRun | null = null;
  let controlError: string | undefined;
  if (needsControl(phase, devices)) {
    const role = `${vm.role}_control`;
    try {
      await vm.stop();
      const controlVm = await context.launchVm(scope, { ...withoutDevicesUnderTest(context.launch), role, isIncoming: false });
      const booted = await controlVm.tryBoot(context.bootTimeoutMs);
      await controlVm.stop();
      control = { vm: controlVm.name, host: controlVm.host.name, ...booted, artifacts: consoles(role) };
    } catch (controlFailure) {
      controlError = `${controlFailure instanceof HarnessError ? `[${controlFailure.code}] ` : ''}${errorMessage(controlFailure)}`;
    }
  }
  const diagnosis = diagnoseFailure({ phase, devicesUnderTest: devices, control, ...(controlError !== undefined ? { controlError } : {}), artifacts: consoles(vm.role) });
  scope.diagnoses.push(diagnosis);
  return new DiagnosedFailure(diagnosis, `${vm.name} on ${vm.host.name}`, error);
}
