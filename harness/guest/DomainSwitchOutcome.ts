/**
 * What one run of a guest domain-switch loop did (brief §5.4: ways a guest moves a device through
 * the blocking domain). Each cycle passes through the blocking domain at least twice.
 */
export interface DomainSwitchOutcome {
  readonly way: 'vfio-user-program' | 'sysfs-default-domain';
  readonly bdf: string;
  readonly cycles: number;
  readonly failedCycles: number;
  readonly elapsedMs: number;
  /** The guest's own words for failed steps (first few). */
  readonly errors: readonly string[];
}

/** A guest action that switches a device's domain in a loop and says how it went. */
export type DomainSwitchLoop = () => Promise<DomainSwitchOutcome>;
