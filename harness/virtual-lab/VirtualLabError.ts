import { InfrastructureError } from '../errors.js';

/**
 * A failure to build, inspect or tear down the single-machine lab. Always infrastructure: a lab
 * that does not come up is never a product verdict (design.md §7).
 */
export class VirtualLabError extends InfrastructureError {}

/** Progress lines for the person running `hil lab ...` ("network up in 212 ms", ...). */
export type LabLog = (message: string) => void;
