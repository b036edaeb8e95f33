/**
 * The lab inventory as plain readonly records, produced by the loader from lab.yaml. All paths on
 * the controller are absolute once loaded. Nothing here does I/O.
 */
export type LabKind = 'virtual' | 'nested' | 'physical';

export interface LabConfig {
  /** Absolute path of the lab file this came from. */
  readonly file: string;
  readonly name: string;
  readonly kind: LabKind;
  /** Virtual/nested lab state on the controller (namespaces' keys, guest image, ...); absolute. */
  readonly stateDir: string;
  /** Caches that outlive a checkout (QEMU builds, nested lab images); absolute. */
  readonly cacheDir: string;
  /** Where run reports go on the controller; absolute. */
  readonly reportsDir: string;
  readonly hosts: Readonly<Record<string, HostSpec>>;
  readonly pairs: readonly HostPairSpec[];
  readonly qemu: Readonly<Record<string, QemuBuildSpec>>;
  readonly guests: Readonly<Record<string, GuestImageSpec>>;
  readonly defaults: DefaultsSpec;
  /** Present for kind "virtual": how the single-machine lab is laid out. */
  readonly virtualLab?: VirtualLabSpec;
  /** Present for kind "nested": how the two-VM lab with real VFIO is laid out. */
  readonly nestedLab?: NestedLabSpec;
}

export interface HostSpec {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Absolute path of a private key on the controller; absent when `agent` is used. */
  readonly identityFile?: string;
  /** Use the ssh-agent at $SSH_AUTH_SOCK. */
  readonly agent: boolean;
  /** known_hosts file on the controller (absolute), checked for this host's key. */
  readonly knownHosts?: string;
  /** A pinned host key: "ssh-ed25519 AAAA..." or "SHA256:<base64 fingerprint>". */
  readonly hostKey?: string;
  /** Accept and record an unknown key on first contact. Only when asked for explicitly. */
  readonly trustOnFirstUse: boolean;
  /** Name of another host in `hosts`, or "user@address:port", to jump through. */
  readonly jump?: string;
  /** Alias to look up in ~/.ssh/config (HostName, Port, User, IdentityFile, ProxyJump). */
  readonly sshConfigHost?: string;
  /** Absolute directory on the host for QEMU sockets, logs, journal and lease. */
  readonly workDir: string;
  /** Address the other host of a pair reaches this one on for migration traffic. */
  readonly migrationAddress: string;
  /** Key into LabConfig.qemu. */
  readonly qemu: string;
  readonly nics: readonly NicSpec[];
  /** The harness refuses to change devices on the machine it runs on unless this is true. */
  readonly allowLocalDevices: boolean;
}

export type NicSpec = VfNicSpec | EmulatedNicSpec | MdevNicSpec;

/** A VF of an SR-IOV PF handed to the guest through VFIO. */
export interface VfNicSpec {
  readonly kind: 'vf';
  readonly name: string;
  /** PCI address of the PF, "0000:3b:00.0". */
  readonly pf: string;
  /** Driver the PF is bound to (e.g. mlx5_core). */
  readonly pfDriver: string;
  /** How many VFs to create on the PF. */
  readonly numVfs: number;
  /** Which VF (index into virtfn*) the guest gets. */
  readonly vfIndex: number;
  /** Driver the VF is bound to for QEMU: vfio-pci or a variant driver such as mlx5_vfio_pci. */
  readonly vfioDriver: string;
  /** Driver to give the VF back to on restore (e.g. mlx5_core); absent = leave unbound. */
  readonly restoreDriver?: string;
  /** Host network interface the VF's traffic leaves on (for the probe path); informational. */
  readonly netdev?: string;
}

/** An emulated NIC on a tap: stands in for the VF in the virtual lab. */
export interface EmulatedNicSpec {
  readonly kind: 'emulated';
  readonly name: string;
  readonly model: 'virtio-net-pci' | 'e1000e' | 'igb';
  /** Tap device on the host, already attached to the lab network. */
  readonly tap: string;
  readonly mac: string;
}

/** A mediated device (e.g. the mtty sample) handed over with sysfsdev=. */
export interface MdevNicSpec {
  readonly kind: 'mdev';
  readonly name: string;
  /** Parent device (e.g. "mtty") and mdev type (e.g. "mtty-2"). */
  readonly parent: string;
  readonly type: string;
  readonly uuid: string;
}

export interface HostPairSpec {
  readonly name: string;
  readonly source: string;
  readonly destination: string;
}

export interface QemuBuildSpec {
  readonly name: string;
  /** Absolute path of qemu-system-* on the host (for a source build: under its prefix). */
  readonly binary: string;
  /** "10.0" etc.; preflight fails a host whose QEMU is older. */
  readonly minVersion?: string;
  /** Present when the harness builds this QEMU from source. */
  readonly source?: QemuSourceSpec;
}

export type QemuSourceBase =
  | { readonly kind: 'debian'; readonly version: string; readonly suite: string }
  | { readonly kind: 'tarball'; readonly path: string }
  | { readonly kind: 'tree'; readonly path: string }
  | { readonly kind: 'git'; readonly url: string; readonly ref: string };

export type PatchApplyMode = 'exact' | 'reduced-context' | 'fuzz';

/** One entry of a patch list: a file, or a folder whose *.patch files apply in name order. */
export interface PatchEntrySpec {
  /** Absolute path on the controller. */
  readonly path: string;
  readonly apply: PatchApplyMode;
  /** Modes of single files of a folder entry, by file name. */
  readonly applyByFile: Readonly<Record<string, PatchApplyMode>>;
}

/** A patch left out on purpose: a file (its commit read from it) or a commit named directly. */
export type LeaveOutSpec = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'commit'; readonly commit: string };

export interface QemuSourceSpec {
  readonly base: QemuSourceBase;
  readonly patches: readonly PatchEntrySpec[];
  readonly leaveOut: readonly LeaveOutSpec[];
  readonly localPatches: readonly PatchEntrySpec[];
  /** Extra configure options, after the harness's defaults. */
  readonly configure: readonly string[];
  readonly targets: readonly string[];
  readonly buildOn: 'controller' | 'hosts';
  /** Install prefix on the hosts. */
  readonly prefix: string;
}

export interface GuestImageSpec {
  readonly name: string;
  /** Controller paths (absolute) of the kernel and initrd, copied to each host's workDir. */
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  /** Or a disk image on the controller. */
  readonly disk?: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** The guest's IP on the lab network, where the probe stream is sent. */
  readonly address: string;
  /** UDP port of the guest's echo responder. */
  readonly echoPort: number;
}

export interface DefaultsSpec {
  readonly timeouts: {
    readonly sshConnectMs: number;
    readonly commandMs: number;
    readonly bootMs: number;
    readonly migrationMs: number;
  };
  readonly migration: {
    readonly downtimeLimitMs: number;
    readonly maxBandwidthBytesPerSec: number;
    /**
     * QEMU avail-switchover-bandwidth: the rate QEMU plans the stop-copy phase with instead of the
     * rate it measured over the last 100 ms. Absent: QEMU's estimate.
     */
    readonly switchoverBandwidthBytesPerSec?: number;
    readonly port: number;
  };
  readonly limits: {
    /** Assertion bounds used by suites that do not set their own. */
    readonly downtimeMs: number;
    readonly guestOutageMs: number;
  };
  readonly probe: {
    readonly rateHz: number;
  };
  /** Settings of every emulated IOMMU a suite asks for, where the suite sets none itself. */
  readonly viommu?: {
    readonly addressWidthBits?: 39 | 48;
  };
}

/** The single-machine lab's layout: namespaces, addresses, bridge. */
export interface VirtualLabSpec {
  /** Prefix of every namespace, veth, bridge and tap the lab makes: nothing else is touched. */
  readonly prefix: string;
  /** Controller's address on the lab network, with prefix length: "10.231.0.1/24". */
  readonly controllerAddress: string;
  /** Kernel flavour of the guest image: cloud boots fastest; generic has e1000e/igb. */
  readonly guestKernelFlavour: 'cloud' | 'generic';
  /** Taps to create per host. */
  readonly tapsPerHost: number;
}

/** The nested lab's layout: its hosts are VMs (L1) on this machine, on a network of their own. */
export interface NestedLabSpec {
  /** Prefix of every namespace, veth, bridge and tap the nested lab makes. */
  readonly prefix: string;
  /** Controller's address on the nested lab network, with prefix length: "10.232.0.1/24". */
  readonly controllerAddress: string;
  readonly hostMemoryMiB: number;
  readonly hostCpus: number;
  /** Size of the L1 root filesystem image (sparse). */
  readonly imageSizeMiB: number;
}
