import type { LabConfig } from '../config/types.js';
import { LocalRunner } from '../LocalRunner.js';
import { VirtualLinkControl } from '../virtual-lab/VirtualLinkControl.js';
import type { LinkControl } from '../host/LinkControl.js';

/**
 * Capabilities of the lab as a whole rather than of one host (harness/host/capabilities.ts has
 * those): what the lab's fabric lets a test do. Suites name them in requireCapabilities like the
 * host ones.
 */
export const LAB_CAPABILITIES = ['link-control'] as const;
export type LabCapability = (typeof LAB_CAPABILITIES)[number];

export interface LabCapabilityVerdict {
  readonly capability: LabCapability;
  readonly isPresent: boolean;
  readonly reason: string;
}

export interface LabAbilities {
  readonly verdicts: readonly LabCapabilityVerdict[];
  readonly linkControl: LinkControl | null;
}

export function isLabCapability(name: string): name is LabCapability {
  return (LAB_CAPABILITIES as readonly string[]).includes(name);
}

/** Looks at the lab as it is now (the switch namespace must exist), never only at its kind. */
export async function detectLabAbilities(lab: LabConfig, runner = new LocalRunner()): Promise<LabAbilities> {
  if (lab.virtualLab === undefined) {
    return {
      verdicts: [{ capability: 'link-control', isPresent: false, reason: `lab "${lab.name}" (${lab.kind}) has no switch the harness owns: its inter-host link cannot be cut from here` }],
      linkControl: null,
    };
  }
  const control = VirtualLinkControl.forLab(lab, runner);
  const problem = await control.whyUnusable();
  return {
    verdicts: [{ capability: 'link-control', isPresent: problem === null, reason: problem ?? `the virtual lab's switch ports in namespace ${control.switchNamespace}` }],
    linkControl: problem === null ? control : null,
  };
}
