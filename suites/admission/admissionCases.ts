import type { Capability } from '../../harness/host/capabilities.js';
import type { VfioBackend, VfioMigrationOptions, ViommuSpec } from '../../harness/qemu/VmSpec.js';
import type { DeviceLookupOptions, DeviceNeed } from '../../harness/session/assignableDevices.js';

/**
 * What QEMU does with a configuration (brief §7 A). Each message is QEMU's "<name>: <text>", name
 * being its name for the device (the BDF, or the mdev UUID); `text` is matched as a substring
 * after the name, since wordings moved between releases (A8: QEMU 10.0 says "VFIO migration is
 * not supported in kernel", the vfio tree of the brief "VFIO migration init failed: migration is
 * not supported in kernel").
 */
export type Admission =
  /** A migration blocker in blocked-reasons; `migrate` refused with the same text. */
  | { readonly kind: 'blocked'; readonly text: string; readonly isNamed: boolean }
  /** QEMU starts, warns on stderr ("warning: <name>: <text>"), and adds no blocker. */
  | { readonly kind: 'warning'; readonly text: string; readonly isNamed: boolean }
  /** The device fails to realize: QEMU exits with this text. */
  | { readonly kind: 'realize-error'; readonly text: string; readonly isNamed: boolean }
  /** No blocker, but `migrate` is refused with this text (checks made at migrate time). */
  | { readonly kind: 'migrate-error'; readonly text: string; readonly isNamed: boolean }
  /** No blocker at all. */
  | { readonly kind: 'admitted' };

export interface AdmissionCase {
  readonly id: string;
  readonly setup: string;
  readonly backends: readonly VfioBackend[];
  readonly need: DeviceNeed;
  readonly lookup?: DeviceLookupOptions;
  /** Beyond vfio (and iommufd for that backend, viommu with a vIOMMU). */
  readonly capabilities: readonly Capability[];
  readonly migration: VfioMigrationOptions;
  readonly viommu?: ViommuSpec;
  readonly extraCapabilities?: Readonly<Record<string, boolean>>;
  /** Why this case cannot run here, decided before any device is looked up; null when it can. */
  readonly precondition?: (facts: { readonly memTotalMiB: number; readonly hasIommuDirtyTracking: boolean; readonly deviceKind: 'vf' | 'mdev' }) => string | null;
  /** Traces to enable (and check) for this case. */
  readonly tracePatterns?: readonly string[];
  /** The expected admission; `series` says whether this QEMU has "relax the vIOMMU check". */
  readonly expect: (series: 'pre' | 'post') => Admission;
}

const NO_DIRTY_TRACKING = "VFIO device doesn't support device and IOMMU dirty tracking";
const VIOMMU = 'Migration is currently not supported with vIOMMU enabled';
const INTEL_IOMMU: ViommuSpec = { model: 'intel-iommu' };
/** vfio_migration_realize's large-memory check: type1's 256 MB bitmap × 8 bits × 4 KiB pages = 8 TiB. */
const TYPE1_BITMAP_LIMIT_MIB = 8 * 1024 * 1024;

export const ADMISSION_CASES: readonly AdmissionCase[] = [
  { id: 'A1', setup: 'device without DMA logging, enable-migration=auto', backends: ['legacy'], need: 'migratable-without-device-dirty-tracking', capabilities: [], migration: { enableMigration: 'auto' },
    expect: () => ({ kind: 'blocked', text: NO_DIRTY_TRACKING, isNamed: true }) },
  { id: 'A2', setup: 'device without DMA logging, enable-migration=on', backends: ['legacy'], need: 'migratable-without-device-dirty-tracking', capabilities: [], migration: { enableMigration: 'on' },
    expect: () => ({ kind: 'warning', text: NO_DIRTY_TRACKING, isNamed: true }) },
  { id: 'A3', setup: 'device without DMA logging, host IOMMU with HW dirty tracking', backends: ['iommufd'], need: 'migratable-without-device-dirty-tracking', lookup: { kinds: ['vf'] }, capabilities: ['iommu-dirty-tracking'], migration: { enableMigration: 'auto' },
    tracePatterns: ['iommufd_backend_alloc_hwpt'], expect: () => ({ kind: 'admitted' }) },
  { id: 'A4', setup: 'device without DMA logging, host IOMMU without HW dirty tracking', backends: ['iommufd'], need: 'migratable-without-device-dirty-tracking', capabilities: [], migration: { enableMigration: 'auto' },
    precondition: (f) => (f.deviceKind === 'vf' && f.hasIommuDirtyTracking ? 'the host IOMMU has dirty tracking: A3 applies to this VF, not A4' : null),
    expect: () => ({ kind: 'blocked', text: NO_DIRTY_TRACKING, isNamed: true }) },
  { id: 'A5', setup: 'device with DMA logging + intel-iommu, enable-migration=auto', backends: ['legacy', 'iommufd'], need: 'migratable-with-device-dirty-tracking', capabilities: ['viommu'], migration: { enableMigration: 'auto' }, viommu: INTEL_IOMMU,
    expect: () => ({ kind: 'blocked', text: VIOMMU, isNamed: true }) },
  { id: 'A5-on', setup: 'device with DMA logging + intel-iommu, enable-migration=on', backends: ['legacy', 'iommufd'], need: 'migratable-with-device-dirty-tracking', capabilities: ['viommu'], migration: { enableMigration: 'on' }, viommu: INTEL_IOMMU,
    expect: () => ({ kind: 'realize-error', text: VIOMMU, isNamed: true }) },
  { id: 'A6', setup: 'device with DMA logging + intel-iommu + x-device-dirty-page-tracking=off, IOMMU HW dirty tracking', backends: ['iommufd'], need: 'migratable-with-device-dirty-tracking', capabilities: ['viommu', 'iommu-dirty-tracking'],
    migration: { enableMigration: 'auto', deviceDirtyPageTracking: 'off' }, viommu: INTEL_IOMMU,
    expect: (series) => (series === 'post' ? { kind: 'admitted' } : { kind: 'blocked', text: VIOMMU, isNamed: true }) },
  { id: 'A7', setup: 'enable-migration=off', backends: ['legacy', 'iommufd'], need: 'any', capabilities: [], migration: { enableMigration: 'off' },
    expect: () => ({ kind: 'blocked', text: 'Migration is disabled for VFIO device', isNamed: true }) },
  { id: 'A8', setup: 'plain vfio-pci VF (no variant driver)', backends: ['legacy', 'iommufd'], need: 'without-migration', capabilities: [], migration: { enableMigration: 'auto' },
    expect: () => ({ kind: 'blocked', text: 'migration is not supported in kernel', isNamed: true }) },
  { id: 'A10', setup: 'migratable device, postcopy-ram capability on', backends: ['legacy', 'iommufd'], need: 'migratable-with-device-dirty-tracking', capabilities: [], migration: { enableMigration: 'auto' },
    extraCapabilities: { 'postcopy-ram': true },
    expect: () => ({ kind: 'migrate-error', text: 'VFIO migration is not supported with postcopy migration', isNamed: true }) },
  { id: 'A11', setup: 'enable-migration=on, guest RAM above 8 TiB (type1 dirty-bitmap limit)', backends: ['legacy'], need: 'migratable-without-device-dirty-tracking', lookup: { kinds: ['vf'] }, capabilities: [], migration: { enableMigration: 'on' },
    precondition: (f) => (f.memTotalMiB > TYPE1_BITMAP_LIMIT_MIB * 1.05 ? null : `missing capability: host memory for a guest above 8 TiB (host has ${f.memTotalMiB} MiB)`),
    expect: () => ({ kind: 'realize-error', text: 'Migration is currently not supported with large memory VM due to dirty tracking limitation in backend', isNamed: true }) },
  { id: 'A12', setup: 'intel-iommu without caching-mode=on + a VFIO device', backends: ['legacy', 'iommufd'], need: 'any', capabilities: ['viommu'], migration: {}, viommu: { model: 'intel-iommu', hasCachingMode: false },
    // The wording moved with the 11.0 vIOMMU rework: 11.1.3 says "vfio <BDF>: Failed to set vIOMMU: Device assignment is not allowed without enabling caching-mode=on for Intel IOMMU."
    expect: (series) => ({ kind: 'realize-error', text: series === 'post' ? 'Device assignment is not allowed without enabling caching-mode=on for Intel IOMMU' : 'We need to set caching-mode=on for intel-iommu to enable device assignment with IOMMU protection', isNamed: false }) },
];

export const A11_GUEST_RAM_MIB = TYPE1_BITMAP_LIMIT_MIB + 1024;
