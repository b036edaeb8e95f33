import { HarnessError } from '../errors.js';

/**
 * A guest action (bind to vfio-pci, a domain-switch loop, ...) could not do what it is for. Not
 * an infrastructure error: a guest that cannot claim its device through VFIO is a finding.
 */
export class GuestActionError extends HarnessError {}
