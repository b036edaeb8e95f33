/**
 * What a VFIO driver says about a device's own migration support (brief §5.1, from the kernel's
 * drivers/vfio/pci/<variant>/Kconfig). Hints only: the definitive answer is QEMU's
 * query-migrate blocked-reasons for the device.
 */
export interface DeviceMigrationHint {
  readonly driver: string | null;
  readonly isVariantDriver: boolean;
  /** The driver implements VFIO migration (v2 uAPI). */
  readonly hasMigration: boolean;
  /** The device logs its own DMA writes; null = not known. Without it, IOMMU dirty tracking is needed. */
  readonly hasDeviceDirtyTracking: boolean | null;
  readonly note: string;
}

interface VariantDriver {
  readonly hasDeviceDirtyTracking: boolean | null;
  readonly note: string;
}

/** Keyed by the driver name with `-` as `_` (sysfs shows pds-vfio-pci, the module is pds_vfio_pci). */
const VARIANT_DRIVERS: Readonly<Record<string, VariantDriver>> = {
  mlx5_vfio_pci: { hasDeviceDirtyTracking: true, note: 'NVIDIA ConnectX VFs; device DMA logging. Enable per VF first: devlink port function set pci/<PF>/<n> migratable enable' },
  pds_vfio_pci: { hasDeviceDirtyTracking: true, note: 'AMD/Pensando DSC; device dirty tracking' },
  hisi_acc_vfio_pci: { hasDeviceDirtyTracking: null, note: 'HiSilicon accelerators; no device DMA logging seen (not verified)' },
  qat_vfio_pci: { hasDeviceDirtyTracking: false, note: 'Intel QAT VFs; needs IOMMU dirty tracking or forced legacy migration' },
  virtio_vfio_pci: { hasDeviceDirtyTracking: false, note: 'virtio-net/blk VFs; relies on IOMMU dirty tracking through IOMMUFD' },
  xe_vfio_pci: { hasDeviceDirtyTracking: false, note: 'Intel graphics VFs; STOP_COPY|P2P, no pre-copy, no device DMA logging' },
};

export function deviceMigrationHint(driver: string | null): DeviceMigrationHint {
  const key = driver?.replace(/-/g, '_') ?? null;
  const variant = key === null ? undefined : VARIANT_DRIVERS[key];
  if (variant !== undefined) return { driver, isVariantDriver: true, hasMigration: true, ...variant };
  if (key === 'vfio_pci') return { driver, isVariantDriver: false, hasMigration: false, hasDeviceDirtyTracking: false, note: 'plain vfio-pci has no migration driver: QEMU blocks migration for the device' };
  if (key !== null && /vfio_pci$/.test(key)) return { driver, isVariantDriver: true, hasMigration: false, hasDeviceDirtyTracking: null, note: `unknown VFIO variant driver ${driver}: check its Kconfig for migration support` };
  return { driver, isVariantDriver: false, hasMigration: false, hasDeviceDirtyTracking: null, note: driver === null ? 'not bound to any driver' : `bound to host driver ${driver}, not VFIO` };
}
