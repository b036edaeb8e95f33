import type { HostSpec } from '../config/types.js';
import type { HostFacts } from './HostFacts.js';
import { compareVersions } from './parseFacts.js';
import { judgeIommuDirtyTracking } from './provisioning/dirtyTracking.js';

/**
 * What a lab can do, derived from preflight facts (never from the lab's name). Suites declare
 * the capabilities they need; a missing one skips the test with its name and reason.
 */
export const CAPABILITIES = [
  'emulated-nic', 'viommu', 'vfio', 'iommufd', 'sriov', 'variant-driver', 'mdev', 'mdev-migration',
  'iommu-dirty-tracking', 'vfio-migration-events', 'kvm',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface CapabilityVerdict {
  readonly capability: Capability;
  readonly isPresent: boolean;
  /** Why it is present or, when absent, what is missing: shown in skip messages. */
  readonly reason: string;
}

export function deriveCapabilities(host: HostSpec, facts: HostFacts): CapabilityVerdict[] {
  const v = (capability: Capability, isPresent: boolean, present: string, absent: string): CapabilityVerdict => ({
    capability, isPresent, reason: isPresent ? present : absent,
  });
  const emulatedNics = host.nics.filter((n) => n.kind === 'emulated');
  const vfNics = host.nics.filter((n) => n.kind === 'vf');
  const mdevNics = host.nics.filter((n) => n.kind === 'mdev');
  const missingModels = emulatedNics.filter((n) => !facts.qemu.nicModels.includes(n.model)).map((n) => n.model);
  const hasIommu = facts.iommu.units.length > 0 && facts.iommu.groupCount > 0;
  const hasVfioModule = facts.modulesAvailable.includes('vfio_pci');
  const isVfio = hasIommu && hasVfioModule && facts.qemu.isPresent;
  const sriovPfs = facts.pciFunctions.filter((f) => (f.sriovTotalVfs ?? 0) > 0);
  const variantDrivers = vfNics.map((n) => n.vfioDriver).filter((d) => d !== 'vfio-pci');
  const missingVariant = variantDrivers.filter((d) => !facts.modulesAvailable.includes(d.replace(/-/g, '_')));
  const dirtyTracking = judgeIommuDirtyTracking({
    units: facts.iommu.units, cmdline: facts.kernelCmdline,
    isScalableModeDefaultOn: facts.iommu.isScalableModeDefaultOn, dmesgAmdEfr: facts.iommu.dmesgAmdEfr,
  });

  // samples/vfio-mdev/mtty.c gained its migration ops in Linux 6.7; an older mtty only blocks migration.
  const kernelVersion = /^(\d+\.\d+)/.exec(facts.kernelRelease)?.[1];
  const isMttyMigratable = kernelVersion !== undefined && compareVersions(kernelVersion, '6.7') >= 0;

  return [
    v('emulated-nic', emulatedNics.length > 0 && missingModels.length === 0,
      `emulated NIC(s) ${emulatedNics.map((n) => n.model).join(', ')} on tap`,
      emulatedNics.length === 0 ? 'no emulated NIC in lab.yaml for this host' : `QEMU lacks NIC model(s) ${missingModels.join(', ')}`),
    v('viommu', facts.qemu.hasIntelIommu, 'QEMU has intel-iommu', `QEMU ${facts.qemu.binary} has no intel-iommu device`),
    v('vfio', isVfio, `IOMMU ${facts.iommu.units.map((u) => u.unit).join(',')} with ${facts.iommu.groupCount} groups, vfio_pci available`,
      !hasIommu ? 'no IOMMU on the host (/sys/class/iommu is empty)' : !hasVfioModule ? 'vfio_pci module not available' : 'QEMU not found'),
    v('iommufd', facts.hasDevIommu && facts.qemu.hasIommufdObject, '/dev/iommu present and QEMU has -object iommufd',
      !facts.hasDevIommu ? 'no /dev/iommu (kernel without CONFIG_IOMMUFD or module not loaded)' : 'QEMU has no -object iommufd'),
    v('sriov', sriovPfs.length > 0, `SR-IOV PF(s) ${sriovPfs.map((f) => `${f.address} (${f.sriovTotalVfs} VFs)`).join(', ')}`, 'no PCI function with sriov_totalvfs > 0'),
    v('variant-driver', variantDrivers.length > 0 && missingVariant.length === 0, `variant driver(s) ${variantDrivers.join(', ')} available`,
      variantDrivers.length === 0 ? 'no VF in lab.yaml uses a variant driver' : `module(s) ${missingVariant.join(', ')} not available`),
    v('mdev', facts.mdevParents.length > 0, `mdev parent(s) ${facts.mdevParents.join(', ')}`, 'no mdev parent device (/sys/class/mdev_bus is empty)'),
    v('mdev-migration', mdevNics.length > 0 && facts.mdevParents.includes('mtty') && isMttyMigratable,
      `mtty mdev parent present on Linux ${kernelVersion} (mtty migrates since 6.7)`,
      mdevNics.length > 0 && facts.mdevParents.includes('mtty') ? `Linux ${kernelVersion ?? facts.kernelRelease}'s mtty cannot migrate (needs 6.7)` : 'no migration-capable mdev parent (mtty) configured and present'),
    v('iommu-dirty-tracking', dirtyTracking.isSupported, dirtyTracking.reason, dirtyTracking.reason),
    v('vfio-migration-events', facts.qemu.vfioPciProperties.includes('migration-events'), 'vfio-pci has migration-events', 'QEMU vfio-pci lacks migration-events (needs 9.1)'),
    v('kvm', facts.hasDevKvm && facts.modulesLoaded.some((m) => m === 'kvm_intel' || m === 'kvm_amd'), 'KVM available', 'no usable /dev/kvm: QEMU runs under TCG'),
  ];
}
