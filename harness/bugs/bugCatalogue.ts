import { HarnessError } from '../errors.js';
import { VFIO_LISTENER_PT_TO_BLOCKED, VTD_BLOCKED_DOMAIN_IOMMUFD } from './blockedDomainCompanions.js';
import type { BugReproduction } from './BugReproduction.js';
import { TYPE1_NOT_IOMMU_DIRTY_TRACKING } from './type1NotIommuDirtyTracking.js';
import { VTD_BLOCKED_DOMAIN_UNMAP } from './vtdBlockedDomainUnmap.js';

/** Every bug reproduction the project has, by id: what `hil run --bug <id>` looks up. */
export const BUG_CATALOGUE: readonly BugReproduction[] = [VTD_BLOCKED_DOMAIN_UNMAP, TYPE1_NOT_IOMMU_DIRTY_TRACKING, VTD_BLOCKED_DOMAIN_IOMMUFD, VFIO_LISTENER_PT_TO_BLOCKED];

/** The mocha title of a bug's test starts with this tag, so `--grep` picks exactly it. */
export function bugTitleTag(id: string): string {
  return `bug:${id}`;
}

/** What `hil run --bug <id>` runs: the bug's suite file, only its test. */
export function bugRunSelection(id: string): { readonly suites: readonly string[]; readonly grep: string } {
  const bug = BUG_CATALOGUE.find((b) => b.id === id);
  if (bug === undefined) {
    throw new HarnessError('RUN_UNKNOWN_BUG', `No bug reproduction "${id}"; known: ${BUG_CATALOGUE.map((b) => b.id).join(', ')}`);
  }
  return { suites: [bug.suite], grep: bugTitleTag(bug.id) };
}
