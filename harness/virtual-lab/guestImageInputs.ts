import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { VirtualLabError, type LabLog } from './VirtualLabError.js';

/** Bump when the builder lays the image out differently: old images then rebuild. */
export const GUEST_IMAGE_LAYOUT_VERSION = 1;

/**
 * Modules the guest loads when the kernel has them as modules: the NICs that stand in for the VF
 * and, for VFIO inside the guest later, the vfio stack. Dependencies come from modules.dep.
 */
export const GUEST_MODULES: readonly string[] = [
  'virtio_pci', 'virtio_net', 'net_failover', 'failover', 'e1000e', 'igb',
  'vfio', 'vfio_pci', 'vfio_pci_core', 'vfio_iommu_type1',
];
/** Without these the guest cannot answer the probe stream at all. */
export const REQUIRED_GUEST_MODULES: readonly string[] = ['virtio_pci', 'virtio_net'];

export type KernelFlavour = 'cloud' | 'generic';

/** Everything the image is made from; its hash decides whether to rebuild. */
export interface GuestImageInputs {
  readonly layoutVersion: number;
  readonly flavour: KernelFlavour;
  /** The real kernel package behind the flavour's metapackage, e.g. linux-image-6.1.0-56-cloud-amd64. */
  readonly kernelPackage: string;
  readonly kernelVersion: string;
  readonly busyboxVersion: string;
  readonly libcVersion: string;
  readonly gccVersion: string;
  /** sha256 of every file under the project's guest/ folder (names and contents). */
  readonly sourcesSha256: string;
  readonly modules: readonly string[];
}

export function metapackageOf(flavour: KernelFlavour): string {
  return flavour === 'cloud' ? 'linux-image-cloud-amd64' : 'linux-image-amd64';
}

export function hashInputs(inputs: GuestImageInputs): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
}

export function hashGuestSources(sourceDir: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, `${rel}${entry.name}/`);
      else if (entry.isFile()) hash.update(`${rel}${entry.name}\0`).update(readFileSync(path)).update('\0');
    }
  };
  walk(sourceDir, '');
  return hash.digest('hex');
}

/** "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)" → the package and its version. */
export function parseKernelDependency(showOutput: string): { kernelPackage: string; kernelVersion: string } | undefined {
  const depends = /^Depends:\s*(.*)$/m.exec(showOutput)?.[1] ?? '';
  for (const alternative of depends.split(/[,|]/)) {
    const match = /^\s*(linux-image-[^\s(]+)\s*(?:\(\s*=\s*([^)\s]+)\s*\))?/.exec(alternative);
    if (match !== null) {
      const version = match[2] ?? /^Version:\s*(\S+)$/m.exec(showOutput)?.[1];
      if (version !== undefined) return { kernelPackage: match[1]!, kernelVersion: version };
    }
  }
  return undefined;
}

async function resolveKernelPackage(runner: CommandRunner, flavour: KernelFlavour, log: LabLog): Promise<{ kernelPackage: string; kernelVersion: string }> {
  const command = sh`apt-cache show --no-all-versions ${metapackageOf(flavour)}`;
  const first = await runner.run(command);
  const resolved = first.exitCode === 0 ? parseKernelDependency(first.stdout) : undefined;
  if (resolved !== undefined) return resolved;
  // A fresh machine has no package lists yet: apt-cache knows nothing until apt-get update.
  log(`apt-cache does not know ${metapackageOf(flavour)}; running apt-get update`);
  try {
    await runChecked(runner, 'env DEBIAN_FRONTEND=noninteractive apt-get update', { timeoutMs: 10 * 60_000 });
  } catch (error) {
    throw new VirtualLabError('GUEST_KERNEL_UNRESOLVED', `Cannot find the guest kernel package ${metapackageOf(flavour)}: apt-get update failed (${errorMessage(error)})`, { cause: error });
  }
  const second = await runChecked(runner, command);
  const retried = parseKernelDependency(second.stdout);
  if (retried === undefined) {
    throw new VirtualLabError('GUEST_KERNEL_UNRESOLVED', `${metapackageOf(flavour)} names no linux-image package in its Depends: ${second.stdout.slice(0, 400)}`);
  }
  return retried;
}

const APT_STATE_DIRS = ['/var/lib/apt/lists', '/etc/apt/sources.list.d', '/etc/apt/preferences.d'];
const APT_STATE_FILES = ['/etc/apt/sources.list', '/etc/apt/preferences'];

/**
 * Changes whenever apt's idea of the candidate kernel can change (package lists, sources, pins).
 * Asking apt-cache costs ~0.5 s: while this stamp holds, the last answer is reused.
 */
export function aptStateStamp(): string {
  const hash = createHash('sha256');
  const add = (path: string): void => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
  };
  for (const dir of APT_STATE_DIRS) {
    if (existsSync(dir)) for (const name of readdirSync(dir).sort()) add(join(dir, name));
  }
  APT_STATE_FILES.forEach(add);
  return hash.digest('hex');
}

/** The kernel package resolved earlier, with the apt state it was resolved under. */
export interface ResolvedKernel {
  readonly aptStamp: string;
  readonly flavour: KernelFlavour;
  readonly kernelPackage: string;
  readonly kernelVersion: string;
}

export async function resolveKernel(runner: CommandRunner, flavour: KernelFlavour, log: LabLog, previous?: ResolvedKernel): Promise<ResolvedKernel> {
  const aptStamp = aptStateStamp();
  if (previous !== undefined && previous.aptStamp === aptStamp && previous.flavour === flavour) return previous;
  const resolved = await resolveKernelPackage(runner, flavour, log);
  // apt-get update inside resolveKernelPackage moves the stamp: take it afresh.
  return { aptStamp: aptStateStamp(), flavour, ...resolved };
}

export async function collectGuestImageInputs(runner: CommandRunner, kernel: ResolvedKernel, sourceDir: string): Promise<GuestImageInputs> {
  const tools = await runChecked(runner, `dpkg-query -W -f='\${Version}\\n' busybox-static libc6-dev && gcc -dumpfullversion`);
  const [busyboxVersion = '', libcVersion = '', gccVersion = ''] = tools.stdout.trim().split('\n');
  return {
    layoutVersion: GUEST_IMAGE_LAYOUT_VERSION,
    flavour: kernel.flavour,
    kernelPackage: kernel.kernelPackage,
    kernelVersion: kernel.kernelVersion,
    busyboxVersion,
    libcVersion,
    gccVersion,
    sourcesSha256: hashGuestSources(sourceDir),
    modules: GUEST_MODULES,
  };
}
