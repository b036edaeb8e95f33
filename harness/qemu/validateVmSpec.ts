import { VmSpecError } from './errors.js';
import { parseVmName } from './vmName.js';
import type { VfioMigrationOptions, VmNic, VmSpec } from './VmSpec.js';

/** ids buildArgv gives its own objects; a NIC may not take them. */
export const RESERVED_IDS: readonly string[] = ['qmp', 'serial0', 'viommu0', 'iommufd0', 'disk0', 'disk0-drive'];

const MACHINE = /^(pc|q35|pc-i440fx-\d+\.\d+|pc-q35-\d+\.\d+)$/;
/** QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
const QEMU_ID = /^[A-Za-z][A-Za-z0-9._-]*$/;
const BDF = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\.[0-7]$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
/** Linux interface names: at most 15 bytes (IFNAMSIZ - 1). */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const TRACE_PATTERN = /^[A-Za-z0-9_*?]+$/;
/** sun_path holds 108 bytes including the NUL. */
const MAX_UNIX_SOCKET_PATH_BYTES = 107;
const ON_OFF_AUTO = ['on', 'off', 'auto'];

/** Throws VmSpecError listing every problem; returns quietly for a spec QEMU can start. */
export function validateVmSpec(spec: VmSpec): void {
  const problems: string[] = [];
  const problem = (text: string) => problems.push(text);

  if (parseVmName(spec.name) === undefined) problem(`name must be "hil-<runId>-<role>" (see vmName()), got ${JSON.stringify(spec.name)}`);
  const isQ35 = /^(q35|pc-q35-)/.test(spec.machine);
  if (!MACHINE.test(spec.machine)) problem(`machine must be pc, q35, pc-i440fx-X.Y or pc-q35-X.Y, got ${JSON.stringify(spec.machine)}`);
  if (spec.accelerator !== undefined && spec.accelerator !== 'tcg' && spec.accelerator !== 'kvm') problem(`accelerator must be tcg or kvm, got ${JSON.stringify(spec.accelerator)}`);
  if (spec.cpuModel !== undefined && !/^[A-Za-z0-9_.,+=-]+$/.test(spec.cpuModel)) problem(`cpuModel ${JSON.stringify(spec.cpuModel)} is not a -cpu value`);
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 16) problem(`memoryMiB must be an integer >= 16, got ${spec.memoryMiB}`);
  if (!Number.isInteger(spec.cpus) || spec.cpus < 1) problem(`cpus must be an integer >= 1, got ${spec.cpus}`);

  checkPath(problem, 'qmpSocket', spec.qmpSocket, { isSocket: true });
  checkPath(problem, 'serialSocket', spec.serialSocket, { isSocket: true });
  if (spec.qmpSocket === spec.serialSocket) problem(`qmpSocket and serialSocket are the same path ${spec.qmpSocket}`);
  if (spec.serialLogFile !== undefined) checkPath(problem, 'serialLogFile', spec.serialLogFile);

  if (spec.boot?.kind === 'kernel') {
    checkPath(problem, 'boot.kernel', spec.boot.kernel);
    if (spec.boot.initrd !== undefined) checkPath(problem, 'boot.initrd', spec.boot.initrd);
  } else if (spec.boot?.kind === 'disk') {
    checkPath(problem, 'boot.path', spec.boot.path);
    if (spec.boot.format !== 'raw' && spec.boot.format !== 'qcow2') problem(`boot.format must be raw or qcow2, got ${JSON.stringify(spec.boot.format)}`);
  } else if (spec.boot !== undefined) {
    problem(`boot.kind must be kernel or disk, got ${JSON.stringify((spec.boot as { kind: unknown }).kind)}`);
  }

  checkNics(problem, spec.nics);

  if (spec.viommu !== undefined) {
    if (spec.viommu.model !== 'intel-iommu') problem(`viommu.model must be intel-iommu, got ${JSON.stringify(spec.viommu.model)}`);
    // QEMU 10.0 on pc: "Parameter 'driver' expects a dynamic sysbus device type for the machine".
    if (!isQ35) problem(`a vIOMMU (intel-iommu) needs a q35 machine; ${spec.machine} (i440fx) cannot have one`);
    if (spec.viommu.hasFirstStageTranslation === true) {
      // QEMU 10.0: "x-flts is only available in scalable mode".
      if (spec.viommu.isScalableMode !== true) problem('viommu.hasFirstStageTranslation (x-flts=on) needs isScalableMode (x-scalable-mode=on)');
      // QEMU: "Need IOMMUFD backend when x-flts=on".
      for (const nic of spec.nics) {
        if ((nic.kind === 'vfio' && nic.backend !== 'iommufd') || (nic.kind === 'mdev' && nic.backend !== 'iommufd')) {
          problem(`nics[${nic.id}]: x-flts=on needs the iommufd backend, but this device uses the legacy container`);
        }
      }
    }
  }

  if (spec.traces !== undefined) {
    if (spec.traces.patterns.length === 0) problem('traces.patterns is empty: leave traces out instead');
    for (const pattern of spec.traces.patterns) {
      if (!TRACE_PATTERN.test(pattern)) problem(`traces.patterns: ${JSON.stringify(pattern)} is not an event name or glob ([A-Za-z0-9_*?])`);
    }
    checkPath(problem, 'traces.file', spec.traces.file);
    // QEMU's -D takes "%d" as the pid and rejects any other '%' ("Bad logfile template").
    if (spec.traces.file.includes('%')) problem(`traces.file must not contain '%' (QEMU -D treats it as a template), got ${spec.traces.file}`);
  }

  if (problems.length > 0) throw new VmSpecError(spec.name, problems);
}

function checkPath(problem: (text: string) => void, field: string, path: string, options: { isSocket?: boolean } = {}): void {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    problem(`${field} must be an absolute path, got ${JSON.stringify(path)}`);
    return;
  }
  // Commas separate QEMU option values; a path with one would need doubling in some options and
  // is a list separator in others (-initrd), so none are allowed.
  if (/[,\n\0]/.test(path)) problem(`${field} must not contain a comma or a line break, got ${JSON.stringify(path)}`);
  if (options.isSocket === true && Buffer.byteLength(path) > MAX_UNIX_SOCKET_PATH_BYTES) {
    problem(`${field} is ${Buffer.byteLength(path)} bytes; a unix socket path can have at most ${MAX_UNIX_SOCKET_PATH_BYTES}: ${path}`);
  }
}

function checkNics(problem: (text: string) => void, nics: readonly VmNic[]): void {
  const seen = { ids: new Set<string>(), devices: new Set<string>(), macs: new Set<string>(), taps: new Set<string>() };
  nics.forEach((nic, index) => {
    const at = `nics[${index}]${typeof nic.id === 'string' ? ` (${nic.id})` : ''}`;
    if (typeof nic.id !== 'string' || !QEMU_ID.test(nic.id)) problem(`${at}: id must start with a letter and hold only letters, digits, '-', '.', '_'`);
    else if (RESERVED_IDS.includes(nic.id)) problem(`${at}: id ${nic.id} is reserved (${RESERVED_IDS.join(', ')})`);
    else if (seen.ids.has(nic.id)) problem(`${at}: id ${nic.id} is used twice`);
    seen.ids.add(nic.id);

    if (nic.kind === 'emulated') {
      if (!['virtio-net-pci', 'e1000e', 'igb'].includes(nic.model)) problem(`${at}: model must be virtio-net-pci, e1000e or igb, got ${JSON.stringify(nic.model)}`);
      if (!IFNAME.test(nic.tap ?? '')) problem(`${at}: tap must be an interface name (1-15 of [A-Za-z0-9_.-]), got ${JSON.stringify(nic.tap)}`);
      else if (seen.taps.has(nic.tap)) problem(`${at}: tap ${nic.tap} is used twice`);
      seen.taps.add(nic.tap);
      if (!MAC.test(nic.mac ?? '')) problem(`${at}: mac must look like 52:54:00:12:34:56, got ${JSON.stringify(nic.mac)}`);
      // The low bit of the first octet marks a multicast address: never a NIC's own.
      else if ((parseInt(nic.mac.slice(0, 2), 16) & 1) === 1) problem(`${at}: mac ${nic.mac} is a multicast address`);
      else if (seen.macs.has(nic.mac.toLowerCase())) problem(`${at}: mac ${nic.mac} is used twice`);
      seen.macs.add((nic.mac ?? '').toLowerCase());
    } else if (nic.kind === 'vfio') {
      if (nic.backend !== 'legacy' && nic.backend !== 'iommufd') problem(`${at}: backend must be legacy or iommufd, got ${JSON.stringify(nic.backend)}`);
      if (typeof nic.host !== 'string' || nic.host === '') {
        problem(`${at}: the ${nic.backend} backend needs the host PCI address of the device (host: "0000:3b:00.2")`);
      } else if (!BDF.test(nic.host)) {
        problem(`${at}: host must be a full PCI address "dddd:bb:ss.f", got ${JSON.stringify(nic.host)}`);
      } else if (seen.devices.has(nic.host.toLowerCase())) {
        problem(`${at}: host device ${nic.host} is assigned twice`);
      }
      seen.devices.add((nic.host ?? '').toLowerCase());
      checkMigrationOptions(problem, at, nic.migration);
    } else if (nic.kind === 'mdev') {
      if (nic.backend !== undefined && nic.backend !== 'legacy' && nic.backend !== 'iommufd') problem(`${at}: backend must be legacy or iommufd, got ${JSON.stringify(nic.backend)}`);
      if (!UUID.test(nic.uuid ?? '')) problem(`${at}: uuid must be an mdev UUID, got ${JSON.stringify(nic.uuid)}`);
      else if (seen.devices.has(nic.uuid.toLowerCase())) problem(`${at}: mdev ${nic.uuid} is assigned twice`);
      seen.devices.add((nic.uuid ?? '').toLowerCase());
      checkMigrationOptions(problem, at, nic.migration);
    } else {
      problem(`${at}: kind must be emulated, vfio or mdev, got ${JSON.stringify((nic as { kind: unknown }).kind)}`);
    }
  });
}

function checkMigrationOptions(problem: (text: string) => void, at: string, options: VfioMigrationOptions | undefined): void {
  if (options === undefined) return;
  const onOffAuto: [string, unknown][] = [
    ['enableMigration', options.enableMigration],
    ['deviceDirtyPageTracking', options.deviceDirtyPageTracking],
    ['preCopyDirtyPageTracking', options.preCopyDirtyPageTracking],
  ];
  for (const [field, value] of onOffAuto) {
    if (value !== undefined && !ON_OFF_AUTO.includes(value as string)) problem(`${at}: migration.${field} must be on, off or auto, got ${JSON.stringify(value)}`);
  }
  if (options.migrationEvents !== undefined && typeof options.migrationEvents !== 'boolean') {
    problem(`${at}: migration.migrationEvents must be true or false, got ${JSON.stringify(options.migrationEvents)}`);
  }
}
