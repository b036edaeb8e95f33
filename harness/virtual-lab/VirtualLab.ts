import { mkdirSync, rmSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { GuestImageSpec, LabConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { TeardownStack } from '../teardown.js';
import { ensureHostPackages, type HostPackagesResult } from './ensureHostPackages.js';
import { GuestImageBuilder, type GuestImageManifest, type GuestImageResult } from './GuestImageBuilder.js';
import { HostSshd, type SshdStatus } from './HostSshd.js';
import { ensureLabKeys } from './labKeys.js';
import { isLabName, labLayout, type LabLayout } from './labLayout.js';
import { LabNetwork, type NetworkStatus } from './LabNetwork.js';
import { namespacePids, processArgv, stopProcesses } from './processes.js';
import { projectRoot } from '../projectRoot.js';
import { VirtualLabError, type LabLog } from './VirtualLabError.js';

export interface VirtualLabOptions {
  /** Whether this process may use apt, namespaces and taps; defaults to "runs as root". */
  readonly isRoot?: boolean;
  /** The project's guest sources (tests point this at a copy). */
  readonly guestSourceDir?: string;
  readonly sshdStartTimeoutMs?: number;
}

export interface LabUpResult {
  readonly durationMs: number;
  readonly packages: HostPackagesResult;
  readonly guestImages: readonly GuestImageResult[];
  /** ip/sysctl commands run to create or repair the network: 0 when everything was in place. */
  readonly networkSteps: number;
  /** Hosts whose sshd was (re)started; empty when every sshd already answered. */
  readonly sshdsStarted: readonly string[];
}

export interface LabProcess {
  readonly namespace: string;
  readonly pid: number;
  readonly command: string;
}

export interface LabDownResult {
  readonly durationMs: number;
  readonly stopped: readonly LabProcess[];
  readonly removed: readonly string[];
  readonly isPurged: boolean;
}

export interface LabStatus {
  /** Every namespace and link healthy and every sshd answering. */
  readonly isUp: boolean;
  readonly stateDir: string;
  readonly network: NetworkStatus;
  readonly sshds: readonly SshdStatus[];
  readonly guestImages: readonly { readonly guest: string; readonly isPresent: boolean; readonly hash?: string; readonly kernelRelease?: string; readonly builtAt?: string }[];
  readonly qemu: { readonly binary: string; readonly version?: string };
  /** Processes inside the lab's host namespaces other than sshd (QEMU, mostly). */
  readonly processes: readonly LabProcess[];
}

/**
 * The single-machine lab (design.md §5): two hosts as network namespaces on one bridge, each with
 * its own sshd, plus the guest image. `up` is idempotent, `down` removes exactly what `up` made
 * (keys and the guest image stay: they are a cache), `status` says what is there.
 */
export class VirtualLab {
  readonly layout: LabLayout;
  private readonly network: LabNetwork;
  private readonly sshds: readonly HostSshd[];

  constructor(
    private readonly config: LabConfig,
    private readonly runner: CommandRunner,
    private readonly log: LabLog = () => undefined,
    private readonly options: VirtualLabOptions = {},
  ) {
    this.layout = labLayout(config);
    this.network = new LabNetwork(this.layout, runner);
    this.sshds = this.layout.hosts.map((h) => new HostSshd(h, this.layout.authorizedKeysFile, runner));
  }

  private get isRoot(): boolean {
    return this.options.isRoot ?? process.getuid?.() === 0;
  }

  private requireRoot(what: string): void {
    if (!this.isRoot) {
      throw new VirtualLabError('LAB_NEEDS_ROOT', `hil lab ${what} needs root: it creates network namespaces, bridges and taps and runs sshd in them. Run it with sudo.`);
    }
  }

  /** Guest images to build: each guest of the lab file with a kernel and an initrd, once per path. */
  imageBuilders(): GuestImageBuilder[] {
    const byInitrd = new Map<string, GuestImageSpec>();
    for (const guest of Object.values(this.config.guests)) {
      if (guest.kernel !== undefined && guest.initrd !== undefined) byInitrd.set(guest.initrd, guest);
    }
    return [...byInitrd.values()].map(
      (guest) =>
        new GuestImageBuilder(
          {
            flavour: this.config.virtualLab?.guestKernelFlavour ?? 'cloud',
            kernelPath: guest.kernel!,
            initrdPath: guest.initrd!,
            workDir: join(this.layout.stateDir, 'guest-build'),
            ...(this.options.guestSourceDir === undefined ? {} : { sourceDir: this.options.guestSourceDir }),
          },
          this.runner,
          this.log,
        ),
    );
  }

  async up(): Promise<LabUpResult> {
    const startedAt = Date.now();
    const packages = await ensureHostPackages(this.runner, this.log, { isRoot: this.isRoot });
    this.requireRoot('up');
    mkdirSync(this.layout.stateDir, { recursive: true });
    // One after the other: builders share the scratch folder and the .deb cache.
    const images = (async () => {
      const results: GuestImageResult[] = [];
      for (const builder of this.imageBuilders()) results.push(await builder.ensure());
      return results;
    })();
    const hosts = (async () => {
      const steps = await this.network.up();
      await ensureLabKeys(this.config, this.layout, this.runner);
      for (const host of this.layout.hosts) mkdirSync(host.workDir, { recursive: true });
      const timeoutMs = this.options.sshdStartTimeoutMs ?? this.config.defaults.timeouts.sshConnectMs;
      const started = await Promise.all(this.sshds.map(async (sshd, i) => ((await sshd.ensureRunning(timeoutMs)) ? this.layout.hosts[i]!.hostName : undefined)));
      return { networkSteps: steps.length, sshdsStarted: started.filter((h): h is string => h !== undefined) };
    })();
    // Both settle before anything is reported: a failed image build must not hide a network error.
    const [imageOutcome, hostOutcome] = await Promise.allSettled([images, hosts]);
    if (hostOutcome.status === 'rejected' && imageOutcome.status === 'rejected') {
      throw new VirtualLabError('LAB_UP_FAILED', `hil lab up failed twice over:\n  hosts: ${errorMessage(hostOutcome.reason)}\n  guest image: ${errorMessage(imageOutcome.reason)}`, {
        cause: hostOutcome.reason,
      });
    }
    if (hostOutcome.status === 'rejected') throw hostOutcome.reason;
    if (imageOutcome.status === 'rejected') throw imageOutcome.reason;
    const result: LabUpResult = { durationMs: Date.now() - startedAt, packages, guestImages: imageOutcome.value, ...hostOutcome.value };
    this.log(`lab up in ${result.durationMs} ms (${result.sshdsStarted.length === 0 ? 'sshds already running' : `sshd started on ${result.sshdsStarted.join(', ')}`})`);
    return result;
  }

  async down(options: { purge?: boolean } = {}): Promise<LabDownResult> {
    this.requireRoot('down');
    const startedAt = Date.now();
    const stopped: LabProcess[] = [];
    const removed: string[] = [];
    // Registered in reverse of execution order; every step runs even when an earlier one fails.
    const teardown = new TeardownStack('virtual lab');
    if (options.purge === true) teardown.push(`remove ${this.layout.stateDir}`, () => this.purgeStateDir());
    teardown.push('delete namespaces and links', async () => {
      removed.push(...(await this.network.down()));
    });
    // An sshd whose namespace was deleted by hand no longer shows in `ip netns pids`: its pid file does.
    teardown.push('stop sshds by pid file', async () => {
      for (const sshd of this.sshds) await sshd.stop();
    });
    teardown.push('stop processes in the lab namespaces', async () => {
      const processes = await this.labProcesses();
      await stopProcesses(processes.map((p) => p.pid), 'processes in the lab namespaces');
      stopped.push(...processes);
    });
    await teardown.run();
    const result: LabDownResult = { durationMs: Date.now() - startedAt, stopped, removed, isPurged: options.purge === true };
    this.log(`lab down in ${result.durationMs} ms: stopped ${stopped.length} process(es), removed ${removed.length} namespace(s)/link(s)`);
    return result;
  }

  private purgeStateDir(): void {
    const stateDir = resolve(this.layout.stateDir);
    // A stateDir of "/" or of the checkout itself would be a typo, not a cache.
    if (!isAbsolute(stateDir) || stateDir === '/' || `${projectRoot()}/`.startsWith(`${stateDir}/`)) {
      throw new VirtualLabError('LAB_PURGE_REFUSED', `Refusing to purge stateDir ${stateDir}: it is / or contains the project checkout`);
    }
    rmSync(stateDir, { recursive: true, force: true });
  }

  /** Every process whose network namespace is one of the lab's (the prefix's). */
  async labProcesses(): Promise<LabProcess[]> {
    const processes: LabProcess[] = [];
    for (const namespace of await this.network.listNamespaces()) {
      if (!isLabName(this.layout.prefix, namespace)) continue;
      for (const pid of await namespacePids(this.runner, namespace)) {
        processes.push({ namespace, pid, command: (processArgv(pid) ?? []).join(' ') });
      }
    }
    return processes;
  }

  async status(): Promise<LabStatus> {
    const network = await this.network.inspect();
    const sshds = await Promise.all(this.sshds.map((s) => s.status()));
    const guestImages = this.imageBuilders().map((builder) => {
      const manifest: GuestImageManifest | undefined = builder.current();
      return {
        guest: builder.manifestPath,
        isPresent: manifest !== undefined,
        ...(manifest === undefined ? {} : { hash: manifest.hash, kernelRelease: manifest.kernelRelease, builtAt: manifest.builtAt }),
      };
    });
    const binary = Object.values(this.config.qemu)[0]?.binary ?? '/usr/bin/qemu-system-x86_64';
    const versionRun = await this.runner.run(sh`${binary} --version`);
    const version = versionRun.exitCode === 0 ? /version (\S+)/.exec(versionRun.stdout)?.[1] : undefined;
    const sshdPids = new Set(sshds.map((s) => s.pid));
    const processes = (await this.labProcesses()).filter((p) => !sshdPids.has(p.pid) && !p.command.startsWith('sshd:'));
    return {
      isUp: network.isComplete && sshds.every((s) => s.isAnswering),
      stateDir: this.layout.stateDir,
      network,
      sshds,
      guestImages,
      qemu: { binary, ...(version === undefined ? {} : { version }) },
      processes,
    };
  }
}
