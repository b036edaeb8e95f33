import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { hashGuestSources, parseKernelDependency } from '../virtual-lab/guestImageInputs.js';
import { projectRoot } from '../projectRoot.js';
import { NestedLabError } from './NestedLabError.js';
import { TRIXIE, TRIXIE_BACKPORTS, type TrixieApt } from './TrixieApt.js';

/** Bump when the builder lays the image out differently: old images then rebuild. */
export const L1_IMAGE_LAYOUT_VERSION = 1;

/** What the L1 root filesystem is made of (mmdebstrap --include), with why. */
export const L1_PACKAGES: Readonly<Record<string, string>> = {
  'linux-image-amd64': 'kernel 6.12 (its vfio stack is replaced by the rebuilt modules)',
  'qemu-system-x86': 'QEMU 10.0, the build before the vIOMMU dirty-tracking series',
  'openssh-server': 'the harness reaches L1 hosts over SSH like real ones',
  'systemd-sysv': 'init',
  udev: 'device nodes and module autoloading',
  pciutils: 'lspci for preflight and debugging',
  kmod: 'modprobe/depmod',
  iproute2: 'addresses, the L2 bridge and taps',
  procps: 'pgrep for preflight',
  socat: 'socket plumbing for consoles and QMP',
  'busybox-static': 'small tools',
};
/** QEMU 11.1 (with the series) from trixie-backports, unpacked beside 10.0 under QEMU_11_PREFIX. */
export const BACKPORTS_QEMU_PACKAGES = ['qemu-system-x86', 'qemu-system-common', 'qemu-system-data', 'seabios'] as const;
export const QEMU_11_PREFIX = '/opt/qemu-11.1';
/** The build chroot: the kernel's own source and the headers that match the image's kernel. */
export const MODULE_SOURCE_PACKAGE = 'linux-source-6.12';

export interface KernelInputs {
  /** linux-image-amd64's version, e.g. 6.12.117-1; source and headers must have the same. */
  readonly version: string;
  readonly imagePackage: string;
  /** uname -r of the L1 kernel: 6.12.117+deb13-amd64. */
  readonly release: string;
  readonly headersPackage: string;
}

/** Everything the modules are built from; its hash names the module cache. */
export interface ModuleInputs {
  readonly kernel: KernelInputs;
  readonly sourceVersion: string;
  /** sha256 of nested/modules (build script and Kbuild files). */
  readonly buildFilesSha256: string;
}

/** Everything the L1 image is made from; its hash decides whether to rebuild. */
export interface L1ImageInputs {
  readonly layoutVersion: number;
  readonly mirror: string;
  readonly imageSizeMiB: number;
  /** Candidate versions in trixie of every L1_PACKAGES entry. */
  readonly packages: Readonly<Record<string, string>>;
  /** trixie-backports versions of BACKPORTS_QEMU_PACKAGES. */
  readonly backportsQemu: Readonly<Record<string, string>>;
  readonly modules: ModuleInputs;
  /** sha256 of nested/l1-root (files copied into the image). */
  readonly rootFilesSha256: string;
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export function nestedSourceDir(): string {
  return join(projectRoot(), 'nested');
}

/** Reads the versions from the private trixie lists; fails with what is missing. */
export async function collectL1ImageInputs(apt: TrixieApt, imageSizeMiB: number, sourceDir = nestedSourceDir()): Promise<L1ImageInputs> {
  const names = [...new Set([...Object.keys(L1_PACKAGES), ...BACKPORTS_QEMU_PACKAGES, MODULE_SOURCE_PACKAGE])];
  const versions = await apt.versions(names);
  const inSuite = (suite: string, pkg: string): string => {
    const version = versions[suite]?.[pkg];
    if (version === undefined) {
      throw new NestedLabError('NESTED_PACKAGE_UNKNOWN', `${pkg} is not in ${suite} on ${apt.mirror}: the L1 image cannot be built (private apt lists in ${apt.sourcesFile})`);
    }
    return version;
  };
  const packages = Object.fromEntries(Object.keys(L1_PACKAGES).map((pkg) => [pkg, inSuite(TRIXIE, pkg)]));
  const backportsQemu = Object.fromEntries(BACKPORTS_QEMU_PACKAGES.map((pkg) => [pkg, inSuite(TRIXIE_BACKPORTS, pkg)]));
  const kernelVersion = packages['linux-image-amd64']!;
  const dependency = parseKernelDependency(await apt.show('linux-image-amd64', kernelVersion));
  if (dependency === undefined) throw new NestedLabError('NESTED_PACKAGE_UNKNOWN', `linux-image-amd64 ${kernelVersion} names no linux-image package in its Depends`);
  const release = dependency.kernelPackage.replace(/^linux-image-/, '');
  const sourceVersion = inSuite(TRIXIE, MODULE_SOURCE_PACKAGE);
  if (sourceVersion !== dependency.kernelVersion) {
    // Modules built from other sources than the running kernel's would load but could misbehave.
    throw new NestedLabError('NESTED_SOURCE_MISMATCH', `${MODULE_SOURCE_PACKAGE} is ${sourceVersion} but the L1 kernel ${dependency.kernelPackage} is ${dependency.kernelVersion} in ${TRIXIE}: the modules must be built from the kernel's own sources`);
  }
  return {
    layoutVersion: L1_IMAGE_LAYOUT_VERSION,
    mirror: apt.mirror,
    imageSizeMiB,
    packages,
    backportsQemu,
    modules: {
      kernel: { version: dependency.kernelVersion, imagePackage: dependency.kernelPackage, release, headersPackage: `linux-headers-${release}` },
      sourceVersion,
      buildFilesSha256: hashGuestSources(join(sourceDir, 'modules')),
    },
    rootFilesSha256: hashGuestSources(join(sourceDir, 'l1-root')),
  };
}
