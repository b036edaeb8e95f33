import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { LabConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { TeardownStack } from '../teardown.js';
import { ensureHostPackages } from '../virtual-lab/ensureHostPackages.js';
import type { GuestImageResult } from '../virtual-lab/GuestImageBuilder.js';
import { ensureLabKeys } from '../virtual-lab/labKeys.js';
import { isLabName } from '../virtual-lab/labLayout.js';
import { LabNetwork, type NetworkStatus } from '../virtual-lab/LabNetwork.js';
import { namespacePids, processArgv, stopProcesses } from '../virtual-lab/processes.js';
import { projectRoot } from '../projectRoot.js';
import type { LabLog } from '../virtual-lab/VirtualLabError.js';
import { CacheLock } from './CacheLock.js';
import { L1ImageBuilder, type L1ImageManifest, type L1ImageResult } from './L1ImageBuilder.js';
import { assembleL2Sources, l2ImageBuilders } from './l2GuestImages.js';
import { L0_QEMU_BINARY, L1Vm, type L1StartOutcome, type L1VmStatus } from './L1Vm.js';
import type { L1Tuning } from './l1QemuArgv.js';
import { NestedLabError } from './NestedLabError.js';
import { nestedLayout, type NestedLayout } from './nestedLayout.js';
import { controllerMirror, readControllerAptSources, TrixieApt } from './TrixieApt.js';
import { VfioModuleBuilder } from './VfioModuleBuilder.js';

export interface NestedLabOptions {
  readonly isRoot?: boolean;
  /** How long one L1 may take from launch to answering SSH (two boot together: ~2x one). */
  readonly bootTimeoutMs?: number;
  /** Image and package caches of another instance of this lab (see NestedLayoutOptions). */
  readonly cacheDir?: string;
  /** Changes to an L1's QEMU line by host name (a bench's one-at-a-time tries); default none. */
  readonly l1Tuning?: Readonly<Record<string, L1Tuning>>;
}

export interface NestedLabUpResult {
  readonly durationMs: number;
  readonly image: L1ImageResult;
  readonly guestImages: readonly GuestImageResult[];
  readonly networkSteps: number;
  /** Per host: what was done and how long until its sshd answered. */
  readonly hosts: readonly { readonly host: string; readonly outcome: L1StartOutcome; readonly readyMs: number }[];
}

export interface NestedLabDownResult {
  readonly durationMs: number;
  readonly stoppedVms: readonly string[];
  readonly stoppedProcesses: number;
  readonly removed: readonly string[];
  readonly isPurged: boolean;
}

export interface NestedLabStatus {
  readonly isUp: boolean;
  readonly stateDir: string;
  readonly network: NetworkStatus;
  readonly hosts: readonly L1VmStatus[];
  readonly image: { readonly isPresent: boolean; readonly hash?: string; readonly kernelRelease?: string; readonly builtAt?: string; readonly buildMs?: number };
}

/** Debian packages the nested lab needs on the controller beyond the virtual lab's. */
const NESTED_HOST_PACKAGES = ['mmdebstrap', 'e2fsprogs'];
const DEFAULT_BOOT_TIMEOUT_MS = 6 * 60_000;
/** Longer than a cold image build on 2 busy cores (~2-3 min): another build finishes first. */
const CACHE_LOCK_TIMEOUT_MS = 20 * 60_000;

/**
 * The nested lab (design.md §5, issue 7): the lab file's hosts are VMs on this machine (L1) with
 * kernel 6.12, the rebuilt VFIO/IOMMUFD modules, an igb SR-IOV NIC behind an emulated VT-d, and
 * QEMU 10.0 + 11.1, reached over SSH on a lab network like real hosts. `up` is idempotent; `down`
 * stops the L1s and removes the network, keeping the image cache; `status` says what is there.
 */
export class NestedLab {
  readonly layout: NestedLayout;
  readonly image: L1ImageBuilder;
  readonly vms: readonly L1Vm[];
  private readonly network: LabNetwork;

  constructor(
    private readonly config: LabConfig,
    private readonly runner: CommandRunner,
    private readonly log: LabLog = () => undefined,
    private readonly options: NestedLabOptions = {},
  ) {
    this.layout = nestedLayout(config, options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir });
    this.network = new LabNetwork(this.layout.network, runner);
    const apt = new TrixieApt(this.layout.aptDir, controllerMirror(readControllerAptSources()), runner, log);
    const modules = new VfioModuleBuilder(this.layout.buildRootDir, this.layout.modulesDir, apt.sourceLines, runner, log);
    this.image = new L1ImageBuilder(this.layout.imageDir, this.layout.debDir, this.layout.spec.imageSizeMiB, apt, modules, runner, log);
    const vmOptions = (hostName: string) => {
      const tuning = options.l1Tuning?.[hostName];
      return { memoryMiB: this.layout.spec.hostMemoryMiB, cpus: this.layout.spec.hostCpus, ...(tuning === undefined ? {} : { tuning }) };
    };
    this.vms = this.layout.hosts.map((host) => new L1Vm(host, this.image.files, this.layout.vmNamespace, this.layout.authorizedKeysFile, vmOptions(host.hostName), runner));
  }

  private requireRoot(what: string): void {
    if (!(this.options.isRoot ?? process.getuid?.() === 0)) {
      throw new NestedLabError('LAB_NEEDS_ROOT', `hil lab ${what} --nested needs root: it runs mmdebstrap and chroot, creates namespaces and taps and boots VMs on them. Run it with sudo.`);
    }
  }

  /** The L1 image and the L2 guest images; cached by their inputs. */
  async ensureImages(): Promise<{ image: L1ImageResult; guestImages: GuestImageResult[] }> {
    this.requireRoot('up');
    await ensureHostPackages(this.runner, this.log, { isRoot: true });
    await this.ensureNestedPackages();
    return new CacheLock(this.layout.cacheLockFile).with(CACHE_LOCK_TIMEOUT_MS, async () => {
      const image = await this.image.ensure();
      const sources = assembleL2Sources(this.layout.l2SourceDir);
      const guestImages: GuestImageResult[] = [];
      // One after the other: the builders share the scratch folder and the .deb cache.
      for (const builder of l2ImageBuilders(this.config, this.layout.l2BuildDir, sources, this.runner, this.log)) guestImages.push(await builder.ensure());
      return { image, guestImages };
    });
  }

  private async ensureNestedPackages(): Promise<void> {
    const query = await this.runner.run(sh`dpkg-query -W -f='\${Package}\t\${db:Status-Abbrev}\n' ${NESTED_HOST_PACKAGES}`);
    const installed = new Set(query.stdout.split('\n').filter((l) => l.split('\t')[1]?.startsWith('ii')).map((l) => l.split('\t')[0]));
    const missing = NESTED_HOST_PACKAGES.filter((p) => !installed.has(p));
    if (missing.length === 0) return;
    this.log(`installing ${missing.join(', ')} for the nested lab`);
    const install = sh`env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing}`;
    const first = await this.runner.run(install, { timeoutMs: 15 * 60_000 });
    if (first.exitCode === 0) return;
    // A fresh machine has no package lists yet: apt knows nothing until apt-get update.
    await runChecked(this.runner, 'env DEBIAN_FRONTEND=noninteractive apt-get update', { timeoutMs: 10 * 60_000 });
    await runChecked(this.runner, install, { timeoutMs: 15 * 60_000 });
  }

  private async checkL0Qemu(): Promise<void> {
    const result = await this.runner.run(sh`${L0_QEMU_BINARY} --version`);
    const version = /version (\d+)\.(\d+)/.exec(result.stdout);
    if (version === null || Number(version[1]) < 8) {
      throw new NestedLabError('NESTED_QEMU_TOO_OLD', `The nested lab needs QEMU >= 8.0 on the controller for the igb SR-IOV NIC; ${L0_QEMU_BINARY} says: ${(result.stdout || result.stderr).split('\n')[0]}`);
    }
  }

  /** Images, network and keys: everything but the running L1s. */
  async prepare(): Promise<{ image: L1ImageResult; guestImages: GuestImageResult[]; networkSteps: number }> {
    this.requireRoot('up');
    mkdirSync(this.layout.stateDir, { recursive: true });
    const images = this.ensureImages();
    const network = (async () => {
      const steps = await this.network.up();
      await ensureLabKeys(this.config, { ...this.layout.network, hosts: this.layout.keyHosts }, this.runner);
      return steps.length;
    })();
    const [imageOutcome, networkOutcome] = await Promise.allSettled([images, network]);
    if (imageOutcome.status === 'rejected' && networkOutcome.status === 'rejected') {
      throw new NestedLabError('LAB_UP_FAILED', `hil lab up --nested failed twice over:\n  network: ${errorMessage(networkOutcome.reason)}\n  images: ${errorMessage(imageOutcome.reason)}`, { cause: imageOutcome.reason });
    }
    if (imageOutcome.status === 'rejected') throw imageOutcome.reason;
    if (networkOutcome.status === 'rejected') throw networkOutcome.reason;
    await this.checkL0Qemu();
    return { ...imageOutcome.value, networkSteps: networkOutcome.value };
  }

  /** Boots the given L1s (default all) together, unless running; resolves when each answers SSH. */
  async boot(vms: readonly L1Vm[] = this.vms): Promise<NestedLabUpResult['hosts']> {
    const timeoutMs = this.options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
    const bootStartedAt = Date.now();
    return Promise.all(
      vms.map(async (vm) => {
        const outcome = await vm.ensureRunning(timeoutMs);
        const readyMs = Date.now() - bootStartedAt;
        if (outcome !== 'answering') this.log(`L1 ${vm.host.hostName} answers SSH at ${vm.host.address} after ${readyMs} ms`);
        return { host: vm.host.hostName, outcome, readyMs };
      }),
    );
  }

  async up(): Promise<NestedLabUpResult> {
    const startedAt = Date.now();
    const prepared = await this.prepare();
    const hosts = await this.boot();
    const result: NestedLabUpResult = { durationMs: Date.now() - startedAt, ...prepared, hosts };
    this.log(`nested lab up in ${result.durationMs} ms`);
    return result;
  }

  async down(options: { purge?: boolean } = {}): Promise<NestedLabDownResult> {
    this.requireRoot('down');
    const startedAt = Date.now();
    const stoppedVms: string[] = [];
    const removed: string[] = [];
    let stoppedProcesses = 0;
    // Pushed in reverse of execution order; every step runs even when an earlier one fails.
    const teardown = new TeardownStack('nested lab');
    if (options.purge === true) teardown.push(`remove ${this.layout.stateDir}`, () => this.purgeStateDir());
    teardown.push('delete namespaces and links', async () => {
      removed.push(...(await this.network.down()));
    });
    teardown.push('stop processes in the lab namespaces', async () => {
      const pids = await this.labProcessPids();
      await stopProcesses(pids, 'processes in the nested lab namespaces');
      stoppedProcesses = pids.length;
    });
    teardown.push('stop the L1 VMs', async () => {
      for (const vm of this.vms) if ((await vm.stop()) !== undefined) stoppedVms.push(vm.host.hostName);
    });
    await teardown.run();
    const result = { durationMs: Date.now() - startedAt, stoppedVms, stoppedProcesses, removed, isPurged: options.purge === true };
    this.log(`nested lab down in ${result.durationMs} ms: stopped ${stoppedVms.length} L1 VM(s), removed ${removed.length} namespace(s)/link(s)`);
    return result;
  }

  private async labProcessPids(): Promise<number[]> {
    const pids: number[] = [];
    for (const namespace of await this.network.listNamespaces()) {
      if (isLabName(this.layout.prefix, namespace)) pids.push(...(await namespacePids(this.runner, namespace)));
    }
    return pids.filter((pid) => processArgv(pid) !== undefined);
  }

  private purgeStateDir(): void {
    const stateDir = resolve(this.layout.stateDir);
    if (!isAbsolute(stateDir) || stateDir === '/' || `${projectRoot()}/`.startsWith(`${stateDir}/`)) {
      throw new NestedLabError('LAB_PURGE_REFUSED', `Refusing to purge stateDir ${stateDir}: it is / or contains the project checkout`);
    }
    rmSync(stateDir, { recursive: true, force: true });
  }

  async status(): Promise<NestedLabStatus> {
    const network = await this.network.inspect();
    const hosts = await Promise.all(this.vms.map((vm) => vm.status()));
    const manifest: L1ImageManifest | undefined = this.image.current();
    return {
      isUp: network.isComplete && hosts.every((h) => h.isAnswering),
      stateDir: this.layout.stateDir,
      network,
      hosts,
      image: manifest === undefined
        ? { isPresent: false }
        : { isPresent: true, hash: manifest.hash, kernelRelease: manifest.kernelRelease, builtAt: manifest.builtAt, buildMs: manifest.buildMs },
    };
  }
}
