import type { DefaultsSpec, GuestImageSpec, HostSpec, NicSpec } from '../config/types.js';
import { HarnessError } from '../errors.js';
import { vmFiles } from '../qemu/vmFiles.js';
import type { ViommuSpec, VmNic, VmSpec } from '../qemu/VmSpec.js';

export interface VmRequest {
  readonly name: string;
  readonly host: HostSpec;
  /** The host folder for the VM's sockets, logs and pid file. */
  readonly vmDir: string;
  readonly guest: GuestImageSpec;
  /** Kernel and initrd paths as the host sees them. */
  readonly boot: { readonly kernel: string; readonly initrd?: string };
  /** Override the emulated NIC model of the lab file (the ping-pong suite runs each model). */
  readonly nicModel?: 'virtio-net-pci' | 'e1000e' | 'igb';
  readonly hasViommu?: boolean;
  readonly isIncoming?: boolean;
  readonly tracePatterns?: readonly string[];
  /**
   * The VM's NICs instead of the lab file's: VFIO/mdev devices a test assigns itself, or a second
   * emulated NIC. Source and destination must be given the same list.
   */
  readonly nics?: readonly VmNic[];
  /** The kernel command line instead of the guest's (e.g. the guest's plus intel_iommu=on iommu=nopt). */
  readonly append?: string;
  /** A vIOMMU other than the default intel-iommu (scalable mode, caching-mode off); implies hasViommu. */
  readonly viommu?: ViommuSpec;
  readonly memoryMiB?: number;
  /** Appended verbatim to QEMU's command line (VmSpec.extraArgs). */
  readonly extraArgs?: readonly string[];
  /** Default tcg. */
  readonly accelerator?: 'tcg' | 'kvm';
}

function vmNic(nic: NicSpec, modelOverride: VmRequest['nicModel']): VmNic {
  switch (nic.kind) {
    case 'emulated':
      return { kind: 'emulated', id: nic.name, model: modelOverride ?? nic.model, tap: nic.tap, mac: nic.mac };
    case 'mdev':
      return { kind: 'mdev', id: nic.name, uuid: nic.uuid };
    case 'vf':
      throw new HarnessError('VM_NEEDS_PROVISIONING', `NIC ${nic.name} is a VF of ${nic.pf}: it must be provisioned (VF created and bound) before a VM can use it.`);
  }
}

/**
 * The VmSpec of a guest on a host, from the lab file. Source and destination get the same devices
 * in the same order, which migration requires.
 */
export function vmSpecFor(request: VmRequest): VmSpec {
  const files = vmFiles(request.vmDir, request.name);
  const hasViommu = request.hasViommu === true || request.viommu !== undefined;
  const append = request.append ?? request.guest.append;
  return {
    name: request.name,
    // A vIOMMU needs q35; pc keeps the plain case small and fast under TCG.
    machine: hasViommu ? 'q35' : 'pc',
    accelerator: request.accelerator ?? 'tcg',
    memoryMiB: request.memoryMiB ?? request.guest.memoryMiB,
    cpus: request.guest.cpus,
    boot: {
      kind: 'kernel', kernel: request.boot.kernel,
      ...(request.boot.initrd !== undefined ? { initrd: request.boot.initrd } : {}),
      ...(append !== undefined ? { append } : {}),
    },
    qmpSocket: files.qmpSocket,
    serialSocket: files.serialSocket,
    serialLogFile: files.serialLog,
    nics: request.nics ?? request.host.nics.map((nic) => vmNic(nic, request.nicModel)),
    ...(hasViommu ? { viommu: request.viommu ?? { model: 'intel-iommu' as const } } : {}),
    ...(request.tracePatterns !== undefined && request.tracePatterns.length > 0 ? { traces: { patterns: request.tracePatterns, file: files.traceLog } } : {}),
    isLogTimestamped: true,
    isIncoming: request.isIncoming === true,
    ...(request.extraArgs !== undefined && request.extraArgs.length > 0 ? { extraArgs: request.extraArgs } : {}),
  };
}

/** The lab's vIOMMU defaults (defaults.viommu) filled into a spec whose suite did not set them. */
export function withViommuDefaults(spec: VmSpec, defaults: DefaultsSpec['viommu']): VmSpec {
  if (spec.viommu === undefined || defaults?.addressWidthBits === undefined || spec.viommu.addressWidthBits !== undefined) return spec;
  return { ...spec, viommu: { ...spec.viommu, addressWidthBits: defaults.addressWidthBits } };
}
