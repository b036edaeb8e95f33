import type { BugObservation, DestinationCheck, GuestLoopEvidence } from '../../harness/bugs/BugReproduction.js';
import { observeMigration } from '../../harness/bugs/observeMigration.js';
import { runChecked } from '../../harness/LocalRunner.js';
import { domainSwitchHook, type DomainSwitchDuringMigration } from '../../harness/guest/domainSwitchHook.js';
import { GUEST_PCI_IDS } from '../../harness/guest/guestPciFunctions.js';
import type { GuestConsole } from '../../harness/console/GuestConsole.js';
import type { DomainSwitchLoop } from '../../harness/guest/DomainSwitchOutcome.js';
import type { VfioBackend, VfioMigrationOptions } from '../../harness/qemu/VmSpec.js';
import type { LabSession } from '../../harness/session/LabSession.js';
import { requireDevicePair, vfioVmNic, type AssignableDevice, type DeviceLookupOptions } from '../../harness/session/assignableDevices.js';
import { sh } from '../../harness/shell.js';
import { errorMessage, HarnessError } from '../../harness/errors.js';
import { readBootId } from '../../harness/guest/readBootId.js';
import { runVfioLoop } from '../../harness/guest/runVfioLoop.js';
import type { LabVm } from '../../harness/session/LabVm.js';
import { armDomainSwitchLoop, guestAppend, prepareGuestDevice, type DomainSwitchWay, type GuestIommuMode } from './blockedDomainSetup.js';

/** brief §4: what the patch-7 and listener signatures are read from. */
export const HOST_BLOCKED_DOMAIN_TRACES: readonly string[] = [
  'vfio_iommu_map_notify', 'vfio_container_query_dirty_bitmap', 'vfio_listener_region_del*', 'vfio_migration_*',
  'vtd_as_unmap_whole', 'vtd_switch_address_space', 'vtd_inv_desc_cc_*',
  'iommufd_backend_get_dirty_bitmap', 'iommufd_backend_unmap_dma*', 'iommufd_backend_set_dirty',
];

/**
 * Low enough that pre-copy outlasts the guest loop (brief §7 C: "low max-bandwidth"): a 256 MiB
 * guest sends ~90 MiB in its first pass, ~11 s here against the loop's 5 s (at 16 MiB/s the
 * nested lab's migration ended before the loop, which then answered on the destination).
 */
const MAX_BANDWIDTH_BYTES_PER_SEC = 8 * 1024 * 1024;
const LOOP_BUDGET = { cycles: 200, maxSeconds: 5 };

export interface HostBlockedDomainOptions {
  readonly backend: VfioBackend;
  readonly migration: VfioMigrationOptions;
  readonly mode: GuestIommuMode;
  readonly way: DomainSwitchWay;
  readonly lookup?: DeviceLookupOptions;
  readonly isScalableMode?: boolean;
}

/** The vendor:device the guest sees for an assigned device: a VF's own IDs, or the mdev type's. */
async function guestIdsOf(lab: LabSession, device: AssignableDevice): Promise<{ vendorId: string; deviceId: string }> {
  if (device.kind === 'mdev') {
    if (device.nic.kind === 'mdev' && device.nic.parent === 'mtty') return GUEST_PCI_IDS.mtty;
    throw new HarnessError('GUEST_IDS_UNKNOWN', `No known guest PCI ids for mdev parent ${device.nic.kind === 'mdev' ? device.nic.parent : '?'} (${device.nic.name})`);
  }
  const dir = `/sys/bus/pci/devices/${device.address}`;
  const ids = (await runChecked(lab.hostRunner(device.host), sh`cat ${`${dir}/vendor`} ${`${dir}/device`}`)).stdout.trim().split(/\s+/);
  return { vendorId: ids[0]!.replace(/^0x/, ''), deviceId: ids[1]!.replace(/^0x/, '') };
}

/** What the loop reported, or null when the hook never fired or the program did not run (its error stays on the hook record). */
function loopEvidence(switching: DomainSwitchDuringMigration | null): GuestLoopEvidence | null {
  if (switching === null) return null;
  let result;
  try {
    result = switching.result();
  } catch (error) {
    if (error instanceof HarnessError && error.code === 'DOMAIN_SWITCH_NOT_RUN') return null;
    throw error;
  }
  const { outcome, statusBefore, statusAfter } = result;
  return { bdf: outcome.bdf, cycles: outcome.cycles, succeededCycles: outcome.succeededCycles, failedCycles: outcome.failedCycles, errors: outcome.errors, statusBefore, statusAfter, dmaWindow: outcome.dmaWindow };
}

/**
 * The guest after a completed migration, on the destination: it answers, with the boot id it had
 * on the source, and claims its device through VFIO once more. A guest or device that does not is
 * what the check records (evidence against a fix); a lab failure (SSH lost) is not caught.
 */
async function checkDestination(destination: LabVm, bootIdOnSource: string, bdf: string): Promise<DestinationCheck> {
  const console = destination.openConsole();
  let bootId: string;
  try {
    bootId = await readBootId(console);
  } catch (error) {
    if (error instanceof HarnessError && error.isInfrastructure) throw error;
    return { hasGuestAnswered: false, isSameBoot: null, isDeviceUsable: null, detail: `${destination.name}: ${errorMessage(error)}` };
  }
  const isSameBoot = bootId === bootIdOnSource;
  try {
    const claim = await runVfioLoop(console, bdf, { cycles: 1 });
    const isDeviceUsable = claim.succeededCycles === 1;
    return { hasGuestAnswered: true, isSameBoot, isDeviceUsable, detail: `${destination.name}: boot id ${bootId}${isSameBoot ? '' : ` (source had ${bootIdOnSource})`}; one VFIO claim of ${bdf}: ${isDeviceUsable ? 'worked' : claim.errors.join('; ') || 'failed'}` };
  } catch (error) {
    if (error instanceof HarnessError && error.isInfrastructure) throw error;
    return { hasGuestAnswered: true, isSameBoot, isDeviceUsable: false, detail: `${destination.name}: boot id ${bootId}; vfio-loop on ${bdf} did not run: ${errorMessage(error)}` };
  }
}

/**
 * Scenario C with a host VFIO device (brief §7 C): the guest, behind an emulated intel-iommu,
 * binds the assigned device to vfio-pci and moves it through the blocking domain during pre-copy.
 * Returns what a bug verdict reads: error-desc, stderr, traces, the guest loop's counts and, after
 * a completed migration, the destination guest. Whether that is enough for a verdict is the bug
 * record's call (missing evidence is INCONCLUSIVE there), not this function's.
 */
export async function observeHostBlockedDomain(context: Mocha.Context, options: HostBlockedDomainOptions): Promise<{ observation: BugObservation; switching: DomainSwitchDuringMigration | null }> {
  const lab = context.lab;
  const devices = await requireDevicePair(context, 'migratable-without-device-dirty-tracking', options.lookup);
  const ids = await guestIdsOf(lab, devices.source);
  const guest = lab.lab.guests['default']!;
  Object.assign(context.scope.labels, { backend: options.backend, device: `${devices.source.kind} ${devices.source.nic.name}`, guestIommu: options.mode, way: options.way });
  const launchFor = (device: AssignableDevice) => ({
    viommu: { model: 'intel-iommu' as const, ...(options.isScalableMode === true ? { isScalableMode: true } : {}) },
    append: guestAppend(guest, options.mode),
    nics: [vfioVmNic(device, { id: 'vf0', backend: options.backend, migration: options.migration })],
    tracePatterns: HOST_BLOCKED_DOMAIN_TRACES,
  });
  let console: GuestConsole | null = null;
  let bdf = '';
  let bootIdOnSource = '';
  let switching: DomainSwitchDuringMigration | null = null;
  let loop: DomainSwitchLoop | null = null;
  const run = await observeMigration(context, {
    launch: launchFor(devices.source),
    destinationLaunch: launchFor(devices.destination),
    isMigrating: true,
    maxBandwidthBytesPerSec: MAX_BANDWIDTH_BYTES_PER_SEC,
    beforeMigration: async (source) => {
      console = source.openConsole();
      await source.waitForShell(lab.lab.defaults.timeouts.bootMs);
      bdf = (await source.prepareDevice(() => prepareGuestDevice(console!, ids, `assigned ${devices.source.nic.name}`, options.way))).bdf;
      bootIdOnSource = await readBootId(console);
      loop = await armDomainSwitchLoop(console, bdf, options.way, LOOP_BUDGET);
    },
    hooks: (source) => {
      switching = domainSwitchHook({
        name: `${options.way} on the assigned device`,
        at: { kind: 'activeFor', ms: 300 },
        loop: loop!,
        migrationStatus: async () => (await source.qmp.execute<{ status: string }>('query-migrate')).status,
      });
      return [switching.hook];
    },
  });
  const ran = switching as DomainSwitchDuringMigration | null;
  const isCompleted = run.observation.record?.outcome === 'completed';
  const destination = isCompleted && run.destination !== null && bdf !== '' ? await checkDestination(run.destination, bootIdOnSource, bdf) : null;
  return { observation: { ...run.observation, guestLoop: loopEvidence(ran), destination }, switching: ran };
}
