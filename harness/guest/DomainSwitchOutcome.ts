/**
 * What one run of a guest domain-switch loop did (brief §5.4: ways a guest moves a device through
 * the blocking domain). Each cycle passes through the blocking domain at least twice.
 */
export interface DomainSwitchOutcome {
  readonly way: 'vfio-user-program' | 'sysfs-default-domain';
  readonly bdf: string;
  /** Cycles attempted. */
  readonly cycles: number;
  /** Cycles whose every step worked, counted by the guest apart from the failed ones. */
  readonly succeededCycles: number;
  readonly failedCycles: number;
  readonly elapsedMs: number;
  /** The guest's own words for failed steps (first few). */
  readonly errors: readonly string[];
  /** The IOVA range the guest mapped and unmapped each cycle (vfio-loop only; null when it has none). */
  readonly dmaWindow: { readonly iova: number; readonly sizeBytes: number } | null;
}

/** A guest action that switches a device's domain in a loop and says how it went. */
export type DomainSwitchLoop = () => Promise<DomainSwitchOutcome>;
