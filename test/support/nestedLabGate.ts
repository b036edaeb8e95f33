import type { Environment } from '../../harness/config/environment.js';

export interface NestedLabGate {
  readonly runs: boolean;
  /** Why the nested-lab tests are skipped (shown in the suite title), or how they were enabled. */
  readonly reason: string;
}

/**
 * The nested lab's tests build a ~0.5 GB image and boot two VMs under TCG (minutes, 2 cores
 * busy): they run only in the CI stage meant for them, or when a developer asks, never by
 * accident inside the unit-test run.
 */
export function nestedLabGate(environment: Environment): NestedLabGate {
  if (!environment.runsNestedLab) return { runs: false, reason: 'set HIL_NESTED_LAB=1 to build and boot the nested lab (the CI nested-lab stage does)' };
  if (!environment.isRoot) return { runs: false, reason: 'HIL_NESTED_LAB=1 but not root: the nested lab needs mmdebstrap, chroot, namespaces and taps' };
  return { runs: true, reason: 'HIL_NESTED_LAB=1' };
}
