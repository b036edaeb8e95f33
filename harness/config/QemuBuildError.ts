import { InfrastructureError } from '../errors.js';

/**
 * A QEMU source build that could not be made: a patch that does not apply, a configure or compile
 * failure, a missing tool. Always the lab's problem (design.md §7: ERROR, never a product verdict).
 */
export class QemuBuildError extends InfrastructureError {}
