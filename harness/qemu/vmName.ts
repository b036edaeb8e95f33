import { HarnessError } from '../errors.js';

/**
 * VM names carry the run id ("hil-<runId>-<role>") so that a QEMU left behind by a dead run is
 * recognisable from its command line alone (`-name guest=<name>`).
 */
export const VM_NAME_PREFIX = 'hil-';

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** The role is the part after the last dash, so it has none itself. */
const ROLE = /^[A-Za-z0-9_]+$/;

export function vmName(runId: string, role: string): string {
  if (!RUN_ID.test(runId)) throw new HarnessError('VM_NAME_INVALID', `A run id must match ${RUN_ID}, got ${JSON.stringify(runId)}`);
  if (!ROLE.test(role)) throw new HarnessError('VM_NAME_INVALID', `A VM role must match ${ROLE} (no dash), got ${JSON.stringify(role)}`);
  return `${VM_NAME_PREFIX}${runId}-${role}`;
}

/** Splits "hil-<runId>-<role>"; undefined for names the harness did not make. */
export function parseVmName(name: string): { readonly runId: string; readonly role: string } | undefined {
  if (!name.startsWith(VM_NAME_PREFIX)) return undefined;
  const rest = name.slice(VM_NAME_PREFIX.length);
  const dash = rest.lastIndexOf('-');
  if (dash <= 0) return undefined;
  const runId = rest.slice(0, dash);
  const role = rest.slice(dash + 1);
  return RUN_ID.test(runId) && ROLE.test(role) ? { runId, role } : undefined;
}

/** The `-name` argument; liveness checks look for exactly this word in /proc/<pid>/cmdline. */
export function nameArgument(name: string): string {
  return `guest=${name}`;
}

/** The VM name in a `-name` argument ("guest=hil-r1-src[,debug-threads=on]"), or undefined. */
export function nameFromArgument(argument: string): string | undefined {
  const match = /^guest=([^,]+)/.exec(argument);
  return match?.[1];
}
