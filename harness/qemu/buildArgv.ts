import { validateVmSpec } from './validateVmSpec.js';
import { nameArgument } from './vmName.js';
import type { VfioMigrationOptions, VmNic, VmSpec } from './VmSpec.js';

/**
 * The QEMU command line (without the binary) for a VmSpec. Pure: same spec, same argv, so a
 * source and its destination get identical device layouts. Throws VmSpecError for a spec that
 * cannot work, listing every problem.
 */
export function buildArgv(spec: VmSpec): string[] {
  validateVmSpec(spec);
  const argv: string[] = [];
  const add = (...words: string[]) => argv.push(...words);

  add('-name', nameArgument(spec.name));
  add('-no-user-config', '-nodefaults', '-display', 'none');
  add('-machine', machineOption(spec));
  add('-accel', spec.accelerator ?? 'tcg');
  if (spec.cpuModel !== undefined) add('-cpu', spec.cpuModel);
  add('-m', `${spec.memoryMiB}M`, '-smp', String(spec.cpus));
  if (spec.isLogTimestamped === true) add('-msg', 'timestamp=on');

  add('-chardev', `socket,id=qmp,path=${spec.qmpSocket},server=on,wait=off`, '-mon', 'chardev=qmp,mode=control');
  const serialLog = spec.serialLogFile === undefined ? '' : `,logfile=${spec.serialLogFile},logappend=on`;
  add('-chardev', `socket,id=serial0,path=${spec.serialSocket},server=on,wait=off${serialLog}`, '-serial', 'chardev:serial0');

  if (spec.boot?.kind === 'kernel') {
    add('-kernel', spec.boot.kernel);
    if (spec.boot.initrd !== undefined) add('-initrd', spec.boot.initrd);
    if (spec.boot.append !== undefined) add('-append', spec.boot.append);
  } else if (spec.boot?.kind === 'disk') {
    const readOnly = spec.boot.isReadOnly === true ? ',readonly=on' : '';
    add('-drive', `file=${spec.boot.path},format=${spec.boot.format},if=none,id=disk0-drive${readOnly}`);
    add('-device', 'virtio-blk-pci,drive=disk0-drive,id=disk0');
  }

  // The vIOMMU must exist before the devices behind it are realized, so it comes first.
  if (spec.viommu !== undefined) {
    const scalable = spec.viommu.isScalableMode === true ? ',x-scalable-mode=on' : '';
    const flts = spec.viommu.hasFirstStageTranslation === true ? ',x-flts=on' : '';
    const cachingMode = spec.viommu.hasCachingMode === false ? 'off' : 'on';
    const awBits = spec.viommu.addressWidthBits === undefined ? '' : `,aw-bits=${spec.viommu.addressWidthBits}`;
    add('-device', `intel-iommu,id=viommu0,intremap=on,caching-mode=${cachingMode}${scalable}${flts}${awBits}`);
  }
  // One /dev/iommu context shared by every IOMMUFD device (docs/devel/vfio-iommufd.rst).
  if (spec.nics.some((nic) => nic.kind !== 'emulated' && nic.backend === 'iommufd')) {
    add('-object', 'iommufd,id=iommufd0');
  }
  for (const nic of spec.nics) add(...nicArgs(nic));

  if (spec.traces !== undefined) {
    for (const pattern of spec.traces.patterns) add('-trace', `enable=${pattern}`);
    // With Debian's "log" trace backend, trace lines go to the -D file (`-trace file=` is only
    // for the "simple" backend when both are built in).
    add('-D', spec.traces.file);
  }
  if (spec.startsPaused === true) add('-S');
  if (spec.isIncoming === true) add('-incoming', 'defer');
  if (spec.extraArgs !== undefined) add(...spec.extraArgs);
  return argv;
}

function machineOption(spec: VmSpec): string {
  if (spec.viommu === undefined) return spec.machine;
  // intremap=on with KVM needs the split irqchip; TCG accepts it too. With a vIOMMU, the AHCI
  // controller's state fails to load on the destination (design.md §5), so q35's SATA is off.
  return `${spec.machine},kernel-irqchip=split,sata=off`;
}

function nicArgs(nic: VmNic): string[] {
  switch (nic.kind) {
    case 'emulated':
      return [
        '-netdev', `tap,id=${nic.id}-net,ifname=${nic.tap},script=no,downscript=no`,
        '-device', `${nic.model},netdev=${nic.id}-net,mac=${nic.mac},id=${nic.id}`,
      ];
    case 'vfio':
      return ['-device', `vfio-pci,host=${nic.host},id=${nic.id}${backendOption(nic.backend)}${migrationOptions(nic.migration)}`];
    case 'mdev':
      return ['-device', `vfio-pci,sysfsdev=/sys/bus/mdev/devices/${nic.uuid},id=${nic.id}${backendOption(nic.backend)}${migrationOptions(nic.migration)}`];
  }
}

function backendOption(backend: 'legacy' | 'iommufd' | undefined): string {
  return backend === 'iommufd' ? ',iommufd=iommufd0' : '';
}

/** Only what the spec sets: an absent option keeps the default of the QEMU under test. */
function migrationOptions(options: VfioMigrationOptions | undefined): string {
  if (options === undefined) return '';
  let out = '';
  if (options.enableMigration !== undefined) out += `,enable-migration=${options.enableMigration}`;
  if (options.migrationEvents !== undefined) out += `,migration-events=${options.migrationEvents ? 'on' : 'off'}`;
  if (options.deviceDirtyPageTracking !== undefined) out += `,x-device-dirty-page-tracking=${options.deviceDirtyPageTracking}`;
  if (options.preCopyDirtyPageTracking !== undefined) out += `,x-pre-copy-dirty-page-tracking=${options.preCopyDirtyPageTracking}`;
  return out;
}
