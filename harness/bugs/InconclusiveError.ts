import { InfrastructureError } from '../errors.js';

/**
 * A bug run that did not produce the evidence a verdict needs (design.md §7, INCONCLUSIVE): the
 * trace was missing or unreadable, the guest's loop failed, the switch did not happen inside
 * pre-copy, nobody looked at the destination. It is an ERROR, never FIXED/REPRODUCED and never a
 * product FAIL: the lab has to be made to show the path, then the run repeated.
 */
export class InconclusiveError extends InfrastructureError {
  readonly missing: readonly string[];

  constructor(bugId: string, missing: readonly string[], expected: string) {
    super('INCONCLUSIVE', `Bug ${bugId}: the run is inconclusive, the evidence a verdict needs is missing: ${missing.map((m, i) => `(${i + 1}) ${m}`).join('; ')}. ${expected}. Fix what is listed (trace patterns, bandwidth, guest loop, destination check) and run it again.`, { data: { bug: bugId, missing } });
    this.missing = missing;
  }
}
