import { InfrastructureError } from '../errors.js';

/**
 * A failure to build, boot, inspect or tear down the nested lab. Always infrastructure: an L1 host
 * that does not come up is never a product verdict (design.md §7).
 */
export class NestedLabError extends InfrastructureError {}
