import type { QemuBuildIdentity } from '../config/QemuBuildIdentity.js';
import type { IommuUnitFacts } from './provisioning/dirtyTracking.js';

/** What preflight learns about a host, as plain data (results.json carries it). */
export interface PciFunctionFacts {
  readonly address: string;
  readonly driver: string | null;
  readonly iommuGroup: number | null;
  /** For an SR-IOV PF: how many VFs it can have and has. */
  readonly sriovTotalVfs: number | null;
  readonly sriovNumVfs: number | null;
  /** Network interfaces the function carries. */
  readonly netdevs: readonly string[];
}

export interface IommuFacts {
  /** IOMMU units under /sys/class/iommu (dmar0, ivhd0, ...) with their capability registers (hex). */
  readonly units: readonly IommuUnitFacts[];
  readonly groupCount: number;
  /** CONFIG_INTEL_IOMMU_SCALABLE_MODE_DEFAULT_ON of the running kernel; null when /boot has no config. */
  readonly isScalableModeDefaultOn: boolean | null;
  /** AMD's global EFR as dmesg printed it ("Using global IVHD EFR:0x..."), which settles the features word order. */
  readonly dmesgAmdEfr: string | null;
}

export interface QemuFacts {
  readonly binary: string;
  readonly isPresent: boolean;
  /** "10.0.2" */
  readonly version: string | null;
  readonly versionLine: string | null;
  readonly hasIommufdObject: boolean;
  /** vfio-pci properties of interest that this build knows. */
  readonly vfioPciProperties: readonly string[];
  readonly hasIntelIommu: boolean;
  readonly nicModels: readonly string[];
  /**
   * What the build is made of: for a source build the harness made, its base and the upstream
   * commits applied and left out (bug verdicts read fix state from them); a binary is known by name.
   */
  readonly identity: QemuBuildIdentity;
}

export interface ClockFacts {
  /** host clock minus controller clock, ms. */
  readonly offsetMs: number;
  /** Half the round trip of the best sample: the offset is exact to within this. */
  readonly uncertaintyMs: number;
  readonly samples: number;
}

export interface HostFacts {
  readonly host: string;
  readonly hostname: string;
  readonly kernelRelease: string;
  readonly kernelCmdline: string;
  readonly iommu: IommuFacts;
  readonly hasDevVfio: boolean;
  /** Entries of /dev/vfio (group numbers, "vfio", "devices"). */
  readonly devVfioEntries: readonly string[];
  /** Entries of /dev/vfio/devices (VFIO cdevs: vfio0, ...). */
  readonly vfioCdevs: readonly string[];
  readonly hasDevIommu: boolean;
  readonly hasDevKvm: boolean;
  /** Loaded modules of interest: vfio, vfio_pci, vfio_iommu_type1, iommufd, mdev, ... */
  readonly modulesLoaded: readonly string[];
  /** Modules of interest the kernel could load (modinfo finds them or they are built in). */
  readonly modulesAvailable: readonly string[];
  readonly netdevs: readonly { readonly name: string; readonly driver: string | null; readonly pciAddress: string | null; readonly isUp: boolean }[];
  readonly pciFunctions: readonly PciFunctionFacts[];
  readonly mdevParents: readonly string[];
  readonly qemu: QemuFacts;
  readonly clock: ClockFacts;
  readonly memAvailableMiB: number;
  readonly memTotalMiB: number;
  /** A journal left by an earlier run (path), if any: preflight replays it first. */
  readonly hasLeftoverJournal: boolean;
  /** QEMU processes of harness VMs found running (command line names a hil- VM). */
  readonly harnessQemuPids: readonly number[];
}
