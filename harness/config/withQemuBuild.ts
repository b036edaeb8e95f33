import { InfrastructureError } from '../errors.js';
import type { LabConfig } from './types.js';

/**
 * The lab with every host on one QEMU build of its `qemu:` section, for `hil run --qemu <build>`:
 * the same suites against another build (a release candidate, a build with or without a series)
 * without editing the lab file. Results record the build through each host's preflight.
 */
export function withQemuBuild(lab: LabConfig, build: string): LabConfig {
  if (lab.qemu[build] === undefined) {
    throw new InfrastructureError('RUN_NO_QEMU_BUILD', `--qemu ${build}: ${lab.file} has no QEMU build "${build}" under qemu: (it has ${Object.keys(lab.qemu).join(', ') || 'none'})`);
  }
  const hosts = Object.fromEntries(Object.entries(lab.hosts).map(([name, host]) => [name, { ...host, qemu: build }]));
  return { ...lab, hosts };
}

/** The lab with defaults.viommu.addressWidthBits set, for `hil run --viommu-aw-bits <bits>`. */
export function withViommuAddressWidth(lab: LabConfig, bits: string): LabConfig {
  if (bits !== '39' && bits !== '48') {
    throw new InfrastructureError('RUN_BAD_AW_BITS', `--viommu-aw-bits ${bits}: intel-iommu takes aw-bits 39 or 48`);
  }
  return { ...lab, defaults: { ...lab.defaults, viommu: { ...lab.defaults.viommu, addressWidthBits: bits === '39' ? 39 : 48 } } };
}
