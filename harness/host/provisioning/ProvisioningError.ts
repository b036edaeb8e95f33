import { InfrastructureError, type ErrorData } from '../../errors.js';

export type ProvisioningErrorCode =
  /** The host is the machine the harness runs on and hosts.<name>.allowLocalDevices is not set. */
  | 'PROVISION_REFUSED_LOCAL'
  /** A value that is not a PCI address, a driver name or an absolute path. */
  | 'PROVISION_BAD_VALUE'
  /** The device is not in a state the change needs (no PF driver, too few VFs, driver not loaded). */
  | 'PROVISION_PRECONDITION'
  | 'PROVISION_READ_FAILED'
  /** The change was made but the device did not end up as asked. */
  | 'PROVISION_VERIFY_FAILED'
  | 'IOMMU_GROUP_NOT_VIABLE';

/** Provisioning went wrong: the lab's fault (ERROR), never a product verdict. */
export class ProvisioningError extends InfrastructureError {
  constructor(code: ProvisioningErrorCode, message: string, options: { cause?: unknown; data?: ErrorData } = {}) {
    super(code, message, options);
  }
}
