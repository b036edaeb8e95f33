import type { DevicePairLookup } from '../../harness/session/assignableDevices.js';

/** A test may run only where the lab gives the case its title claims; otherwise it is skipped naming that case. */
export type CaseDecision = { readonly isRunnable: true } | { readonly isRunnable: false; readonly skipReason: string };

/**
 * What a legacy container forced with enable-migration=on shows about stop-copy, by device kind
 * (brief §7 B(iv)). type1 marks every mapped page dirty at each sync when the device's group sits
 * in a real IOMMU domain and has not narrowed its scope to pinned pages: a VF. An mdev's container
 * has no IOMMU domain, so type1 reports only what the vendor driver pinned (mtty pins nothing).
 */
export type ForcedLegacyCase = 'perpetual-dirty' | 'pinned-pages-only';

export function forcedLegacyCaseOf(kind: 'vf' | 'mdev'): ForcedLegacyCase {
  return kind === 'vf' ? 'perpetual-dirty' : 'pinned-pages-only';
}

const NEEDS: Record<ForcedLegacyCase, string> = {
  'perpetual-dirty': 'B(iv) perpetual dirty needs a VF with a migration driver and no DMA logging (or DMA logging switched off) in a type1 IOMMU domain; an mdev cannot show it (its container has no IOMMU domain, type1 reports pinned pages only: B(iv-mdev) covers that)',
  'pinned-pages-only': 'B(iv-mdev) needs a migratable mdev without DMA logging (or with it switched off)',
};

/** Whether the device the lab gave (looked up for the case's kind) can show the case. */
export function forcedLegacyDecision(wanted: ForcedLegacyCase, lookup: DevicePairLookup): CaseDecision {
  if (!lookup.isFound) return { isRunnable: false, skipReason: `${NEEDS[wanted]}: ${lookup.reason}` };
  const found = forcedLegacyCaseOf(lookup.source.kind);
  return found === wanted ? { isRunnable: true } : { isRunnable: false, skipReason: `${NEEDS[wanted]}; the lab's ${lookup.source.kind} ${lookup.source.nic.name} shows ${found}` };
}

/** One device of a mixed-backend VM and what QEMU should make of it with enable-migration=auto. */
export interface MixedDeviceExpectation {
  readonly name: string;
  readonly backend: 'legacy' | 'iommufd';
  readonly isBlockerExpected: boolean;
}

/**
 * M1 claims each device is judged on its own (brief §2.3 rule 3). Two devices with the same
 * expectation (both admitted, as two mdevs with DMA logging are) pass whether QEMU judges them
 * apart or together, so only a pair with one blocker expected and one not can tell.
 */
export function mixedBackendDecision(devices: readonly MixedDeviceExpectation[]): CaseDecision {
  const kinds = new Set(devices.map((d) => d.isBlockerExpected));
  if (devices.length >= 2 && kinds.size === 2) return { isRunnable: true };
  const each = devices.map((d) => `${d.name} on ${d.backend}: ${d.isBlockerExpected ? 'blocker' : 'no blocker'} expected`).join(', ');
  return { isRunnable: false, skipReason: `M1 needs two devices QEMU must judge differently (one without a dirty tracker on its backend, blocked; one with a tracker, admitted); this lab gives ${each}` };
}
