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
