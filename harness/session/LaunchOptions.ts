import type { VmRequest } from './vmSpecFor.js';

/** What a test asks of a VM it launches on a host of the pair (LabSession.launchVm). */
export interface LaunchOptions extends Pick<VmRequest, 'nicModel' | 'hasViommu' | 'isIncoming' | 'tracePatterns' | 'nics' | 'append' | 'viommu' | 'memoryMiB' | 'extraArgs'> {
  readonly host: string;
  readonly role: string;
  readonly guest?: string;
  /**
   * QEMU arguments adding a device under test beyond VFIO NICs and the vIOMMU (which are under
   * test already): a control boot (diagnoseGuestFailure) leaves them out.
   */
  readonly deviceUnderTestArgs?: readonly string[];
}
