import type { QemuBuildIdentity } from '../config/QemuBuildIdentity.js';
import type { LabPreflight } from './preflightLab.js';

/** A readable preflight table for the terminal: facts, checks, capabilities per host. */
export function formatPreflight(report: LabPreflight): string {
  const lines: string[] = [`Preflight of lab "${report.lab}" (${report.file}) in ${report.durationMs} ms`];
  for (const host of report.hosts) {
    lines.push('', `── ${host.host}  ${host.where}  ${host.isReachable ? '' : 'UNREACHABLE'} (${host.durationMs} ms)`);
    const f = host.facts;
    if (f !== null) {
      const rows: [string, string][] = [
        ['kernel', `${f.kernelRelease}  (${f.kernelCmdline.slice(0, 100)})`],
        ['IOMMU', f.iommu.units.length === 0 ? 'none' : `${f.iommu.units.map((u) => u.unit).join(', ')}, ${f.iommu.groupCount} groups`],
        ['/dev/vfio', f.hasDevVfio ? f.devVfioEntries.join(' ') : 'absent'],
        ['VFIO cdevs', f.vfioCdevs.length === 0 ? 'none' : f.vfioCdevs.join(' ')],
        ['/dev/iommu', f.hasDevIommu ? 'present' : 'absent'],
        ['modules', f.modulesLoaded.length === 0 ? 'none of interest loaded' : f.modulesLoaded.join(' ')],
        ['NICs', f.netdevs.map((n) => `${n.name}${n.driver !== null ? `(${n.driver})` : ''}`).join(' ') || 'none'],
        ['SR-IOV', f.pciFunctions.filter((p) => p.sriovTotalVfs !== null).map((p) => `${p.address} ${p.sriovNumVfs}/${p.sriovTotalVfs} VFs`).join(', ') || 'none'],
        ['QEMU', f.qemu.isPresent ? `${f.qemu.version} at ${f.qemu.binary}${f.qemu.hasIommufdObject ? ', iommufd' : ''}` : `not found at ${f.qemu.binary}`],
        ['QEMU build', describeIdentity(f.qemu.identity)],
        ['vfio-pci props', ['enable-migration', 'migration-events', 'x-device-dirty-page-tracking'].map((p) => `${p}:${f.qemu.vfioPciProperties.includes(p) ? 'yes' : 'no'}`).join(' ')],
        ['clock offset', `${f.clock.offsetMs} ms ± ${f.clock.uncertaintyMs} ms`],
        ['memory', `${f.memAvailableMiB} MiB free of ${f.memTotalMiB} MiB`],
      ];
      for (const [key, value] of rows) lines.push(`   ${key.padEnd(15)} ${value}`);
    }
    lines.push('   checks:');
    for (const check of host.checks) lines.push(`     ${check.isOk ? 'ok  ' : 'FAIL'} ${check.name.padEnd(16)} ${check.detail}`);
    if (host.capabilities.length > 0) {
      lines.push('   capabilities:');
      for (const c of host.capabilities) lines.push(`     ${c.isPresent ? '+' : '-'} ${c.capability.padEnd(22)} ${c.reason}`);
    }
  }
  lines.push('', report.isReady ? 'Preflight: ready.' : 'Preflight: NOT ready (see FAIL lines above).');
  return lines.join('\n');
}

/** "qemu-series-nofix: debian 1:10.2.2+ds-1 (unstable) + 31ec4aadd066 … − cac33cb5533a + local fix.patch". */
export function describeIdentity(identity: QemuBuildIdentity): string {
  if (identity.kind === 'binary') return `${identity.name} (a binary: known by its version line only)`;
  const parts = [`${identity.name}: ${identity.base}`];
  if (identity.appliedCommits.length > 0) parts.push(`applied ${identity.appliedCommits.map((c) => c.slice(0, 12)).join(' ')}`);
  if (identity.leftOutCommits.length > 0) parts.push(`left out ${identity.leftOutCommits.map((c) => c.slice(0, 12)).join(' ')}`);
  if (identity.localPatches.length > 0) parts.push(`local ${identity.localPatches.join(' ')}`);
  return parts.join('; ');
}
