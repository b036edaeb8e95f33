/**
 * One QEMU VM as a plain readonly record: what buildArgv turns into a command line. Paths are on
 * the host that runs QEMU. Built by the orchestrator from the lab config (GuestImageSpec, NicSpec)
 * plus what provisioning found (a VF's BDF); see vmFiles() for the standard file layout.
 */
export type OnOffAuto = 'on' | 'off' | 'auto';

export type Accelerator = 'tcg' | 'kvm';

/**
 * "pc" / "q35" are QEMU's aliases for the newest version; a pinned version ("pc-q35-10.0") is
 * what lets a VM migrate between two different QEMU releases.
 */
export type MachineType = 'pc' | 'q35' | `pc-i440fx-${string}` | `pc-q35-${string}`;

export interface VmSpec {
  /** "hil-<runId>-<role>" (see vmName()): preflight finds stale VMs by it on QEMU command lines. */
  readonly name: string;
  readonly machine: MachineType;
  /** Default "tcg". */
  readonly accelerator?: Accelerator;
  /** -cpu model; absent = QEMU's default for the accelerator. */
  readonly cpuModel?: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** Absent: firmware only (enough for QMP-only VMs). */
  readonly boot?: KernelBoot | DiskBoot;
  /** QMP unix socket (server, nowait). Unix socket paths are limited to 107 bytes. */
  readonly qmpSocket: string;
  /** Serial console unix socket (server, nowait), for the guest console. */
  readonly serialSocket: string;
  /** Also copy everything on the serial line to this file (a console transcript for artifacts). */
  readonly serialLogFile?: string;
  /** In order; they get PCI slots in this order, which must match between source and destination. */
  readonly nics: readonly VmNic[];
  readonly viommu?: ViommuSpec;
  readonly traces?: TraceSpec;
  /** Prefix QEMU's messages and trace lines with the host's wall-clock time (-msg timestamp=on). */
  readonly isLogTimestamped?: boolean;
  /** -S: do not start the vCPUs until `cont`. */
  readonly startsPaused?: boolean;
  /** -incoming defer: a migration destination, waiting for migrate-incoming. */
  readonly isIncoming?: boolean;
  /** Appended verbatim (e.g. a `-global` a bug reproduction needs); not validated. */
  readonly extraArgs?: readonly string[];
}

export interface KernelBoot {
  readonly kind: 'kernel';
  readonly kernel: string;
  readonly initrd?: string;
  readonly append?: string;
}

export interface DiskBoot {
  readonly kind: 'disk';
  readonly path: string;
  readonly format: 'raw' | 'qcow2';
  readonly isReadOnly?: boolean;
}

export type VmNic = EmulatedVmNic | VfioVmNic | MdevVmNic;

/** An emulated NIC on a tap that already exists on the host (the virtual lab's stand-in for a VF). */
export interface EmulatedVmNic {
  readonly kind: 'emulated';
  /** QEMU device id ("nic0"); the netdev gets "<id>-net". */
  readonly id: string;
  readonly model: 'virtio-net-pci' | 'e1000e' | 'igb';
  readonly tap: string;
  readonly mac: string;
}

/** Which host VFIO interface QEMU uses: the type1 container, or /dev/iommu + the device cdev. */
export type VfioBackend = 'legacy' | 'iommufd';

/** vfio-pci migration knobs (brief §2.1); each is emitted only when set, else QEMU's default holds. */
export interface VfioMigrationOptions {
  /** enable-migration (default auto: migrate only with a real dirty tracker, else a blocker). */
  readonly enableMigration?: OnOffAuto;
  /** migration-events: VFIO_MIGRATION QMP events (QEMU 9.1+). */
  readonly migrationEvents?: boolean;
  /** x-device-dirty-page-tracking (QEMU 9.1+): off = use container/IOMMU tracking instead. */
  readonly deviceDirtyPageTracking?: OnOffAuto;
  /** x-pre-copy-dirty-page-tracking: off = no dirty sync during pre-copy. */
  readonly preCopyDirtyPageTracking?: OnOffAuto;
}

/** A PCI device (a VF) handed over with vfio-pci,host=<BDF>. */
export interface VfioVmNic {
  readonly kind: 'vfio';
  readonly id: string;
  /** Host PCI address, "0000:3b:00.2". */
  readonly host: string;
  readonly backend: VfioBackend;
  readonly migration?: VfioMigrationOptions;
}

/** A mediated device handed over with vfio-pci,sysfsdev=/sys/bus/mdev/devices/<uuid>. */
export interface MdevVmNic {
  readonly kind: 'mdev';
  readonly id: string;
  readonly uuid: string;
  /** IOMMUFD works for mdevs too (QEMU finds the cdev under the sysfs path); default legacy. */
  readonly backend?: VfioBackend;
  readonly migration?: VfioMigrationOptions;
}

/** An emulated Intel VT-d with intremap=on and, unless turned off, caching-mode=on (VFIO needs it). */
export interface ViommuSpec {
  readonly model: 'intel-iommu';
  /**
   * caching-mode (default true). Only admission case A12 turns it off: QEMU then refuses the first
   * VFIO MAP notifier ("We need to set caching-mode=on for intel-iommu ...", brief §2.1).
   */
  readonly hasCachingMode?: boolean;
  /** x-scalable-mode=on. */
  readonly isScalableMode?: boolean;
  /** x-flts=on (first-stage translation): QEMU needs the IOMMUFD backend for every VFIO device. */
  readonly hasFirstStageTranslation?: boolean;
  /**
   * aw-bits: the guest address width. Absent = QEMU's default (48 since machine 9.2). It sets the
   * size of a whole-space unmap, so 39 keeps that unmap under type1's dirty-bitmap limit.
   */
  readonly addressWidthBits?: 39 | 48;
}

/** Trace events to enable at start (needs QEMU built with the "log" trace backend, as Debian's is). */
export interface TraceSpec {
  /** Event names or globs: "vfio_migration_*", "vmstate_downtime*". */
  readonly patterns: readonly string[];
  /** Where trace lines go (-D). */
  readonly file: string;
}
