import { L1_PF_SLOT, type L1HostLayout } from './nestedLayout.js';
import type { L1ImageFiles } from './L1ImageBuilder.js';

/** PCI slots of the L1's devices on q35's root bus: fixed, so addresses in the lab file are real. */
const MGMT_SLOT = 2;
const LAN_SLOT = 4;
const DISK_SLOT = 5;

/**
 * Departures from the L1's usual QEMU line, one knob each, so a bench can change one thing at a
 * time and measure it (bench/nestedStability.ts); absent = the lab's own choice.
 */
export interface L1Tuning {
  /** Options after `tcg,` on -accel (e.g. `thread=single`). */
  readonly tcgOptions?: string;
  /** -cpu instead of `max` (a named model, or `max` with features off: `max,-x2apic`). */
  readonly cpuModel?: string;
  /** More L1 kernel parameters (e.g. `kvm_amd.npt=0`); later ones win over the lab's. */
  readonly kernelParams?: readonly string[];
  /** -smp instead of the lab file's hostCpus. */
  readonly cpus?: number;
  /**
   * The command that runs QEMU on the controller instead of its own binary: e.g. another build
   * started through its own dynamic loader (`ld.so --library-path <libs> <qemu>`).
   */
  readonly qemuCommand?: readonly string[];
  /** Appended to the L1's QEMU line (e.g. `-L <firmware dir>` of that other build). */
  readonly extraArgs?: readonly string[];
}

export interface L1VmOptions {
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly tuning?: L1Tuning;
}

/** The L1 kernel's command line: VT-d on, stable interface names (hil-setup finds NICs by MAC). */
export const L1_KERNEL_APPEND = 'root=/dev/vda rw console=ttyS0 intel_iommu=on net.ifnames=0 quiet systemd.show_status=false';

function slot(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * The L1 host's QEMU command line (without the binary). Pure. TCG, because /dev/kvm here cannot
 * run ordinary kernels; q35 with an emulated VT-d (caching-mode=on: VFIO in L1 needs it; split
 * irqchip: intremap needs it); `-cpu max` gives the L1 kernel SVM, so kvm_amd loads there and L2
 * guests run with -accel kvm. The root image is shared by every L1: snapshot=on keeps each L1's
 * writes in a throwaway overlay, so each boot starts clean.
 */
export function l1QemuArgv(host: L1HostLayout, image: L1ImageFiles, authorizedKeysFile: string, options: L1VmOptions): string[] {
  const tap = (id: string, ifname: string): string[] => ['-netdev', `tap,id=${id},ifname=${ifname},script=no,downscript=no`];
  const tuning = options.tuning ?? {};
  return [
    '-name', host.vmName,
    '-no-user-config', '-nodefaults', '-display', 'none',
    '-machine', 'q35,kernel-irqchip=split',
    '-accel', tuning.tcgOptions === undefined ? 'tcg' : `tcg,${tuning.tcgOptions}`,
    '-cpu', tuning.cpuModel ?? 'max',
    '-smp', String(tuning.cpus ?? options.cpus),
    '-m', `${options.memoryMiB}M`,
    // Before every PCI device: the devices behind it must find it when they are realized.
    '-device', 'intel-iommu,intremap=on,caching-mode=on',
    '-kernel', image.kernel,
    '-initrd', image.initrd,
    '-append', [L1_KERNEL_APPEND, ...(tuning.kernelParams ?? [])].join(' '),
    '-drive', `file=${image.rootImage},format=raw,if=none,id=root,snapshot=on,cache=unsafe`,
    '-device', `virtio-blk-pci,drive=root,addr=${slot(DISK_SLOT)}`,
    ...tap('mgmt', host.taps.mgmt),
    '-device', `virtio-net-pci,netdev=mgmt,mac=${host.macs.mgmt},addr=${slot(MGMT_SLOT)}`,
    ...tap('pf', host.taps.pf),
    '-device', `igb,netdev=pf,mac=${host.macs.pf},addr=${slot(L1_PF_SLOT)}`,
    ...tap('lan', host.taps.lan),
    '-device', `virtio-net-pci,netdev=lan,mac=${host.macs.lan},addr=${slot(LAN_SLOT)}`,
    '-fw_cfg', `name=opt/vfio-hil/config,file=${host.identityFile}`,
    '-fw_cfg', `name=opt/vfio-hil/host_key,file=${host.hostKeyFile}`,
    '-fw_cfg', `name=opt/vfio-hil/authorized_keys,file=${authorizedKeysFile}`,
    '-serial', `file:${host.consoleLogFile}`,
    '-pidfile', host.pidFile,
    ...(tuning.extraArgs ?? []),
  ];
}

/** The shell assignments hil-setup (nested/l1-root) sources from fw_cfg. */
export function l1IdentityScript(host: L1HostLayout): string {
  const assign = (name: string, value: string): string => `${name}='${value.replace(/'/g, `'\\''`)}'`;
  return [
    '# Written by harness/nested-lab for hil-setup in the L1 host.',
    assign('HIL_HOSTNAME', host.hostName),
    assign('HIL_MGMT_MAC', host.macs.mgmt),
    assign('HIL_MGMT_CIDR', host.addressCidr),
    assign('HIL_LAN_MAC', host.macs.lan),
    assign('HIL_PF_MAC', host.macs.pf),
    '',
  ].join('\n');
}
