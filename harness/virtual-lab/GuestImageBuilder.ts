import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { collectGuestImageInputs, hashInputs, REQUIRED_GUEST_MODULES, resolveKernel, type GuestImageInputs, type KernelFlavour, type ResolvedKernel } from './guestImageInputs.js';
import { parseModulesBuiltin, parseModulesDep, selectModules, type ModuleSelection } from './kernelModules.js';
import { projectRoot } from '../projectRoot.js';
import { VirtualLabError, type LabLog } from './VirtualLabError.js';

export interface GuestImageBuilderOptions {
  readonly flavour: KernelFlavour;
  /** Where the kernel and the initramfs go (lab.yaml guests.*.kernel / initrd). */
  readonly kernelPath: string;
  readonly initrdPath: string;
  /** Scratch and download cache (the kernel .deb is kept there). */
  readonly workDir: string;
  /** The project's guest sources: init.sh and *.c. Defaults to <checkout>/guest. */
  readonly sourceDir?: string;
}

/** Written beside the initramfs; its `hash` is compared with the inputs' hash to skip a rebuild. */
export interface GuestImageManifest {
  readonly hash: string;
  readonly inputs: GuestImageInputs;
  /** How the kernel package was resolved; reused while apt's state is unchanged. */
  readonly resolvedKernel: ResolvedKernel;
  readonly kernelRelease: string;
  readonly modulesLoaded: readonly string[];
  readonly modulesBuiltIn: readonly string[];
  readonly modulesMissing: readonly string[];
  readonly builtAt: string;
  readonly buildMs: number;
}

export interface GuestImageResult {
  readonly manifest: GuestImageManifest;
  readonly isRebuilt: boolean;
  readonly durationMs: number;
}

const BUSYBOX = '/bin/busybox';

/**
 * Builds the guest's kernel + busybox initramfs from Debian's kernel package (downloaded and
 * unpacked, never installed: installing it pulls in udev and upgrades systemd) and the project's
 * guest sources. Rebuilds only when the inputs' hash changes.
 */
export class GuestImageBuilder {
  readonly manifestPath: string;
  readonly sourceDir: string;

  constructor(
    private readonly options: GuestImageBuilderOptions,
    private readonly runner: CommandRunner,
    private readonly log: LabLog,
  ) {
    this.manifestPath = join(dirname(options.initrdPath), 'guest-image.json');
    this.sourceDir = options.sourceDir ?? join(projectRoot(), 'guest');
  }

  /** The manifest of the image on disk, when both outputs and the manifest exist. */
  current(): GuestImageManifest | undefined {
    if (!existsSync(this.manifestPath) || !existsSync(this.options.kernelPath) || !existsSync(this.options.initrdPath)) return undefined;
    return JSON.parse(readFileSync(this.manifestPath, 'utf8')) as GuestImageManifest;
  }

  async ensure(): Promise<GuestImageResult> {
    const startedAt = Date.now();
    const existing = this.current();
    const kernel = await resolveKernel(this.runner, this.options.flavour, this.log, existing?.resolvedKernel);
    const inputs = await collectGuestImageInputs(this.runner, kernel, this.sourceDir);
    const hash = hashInputs(inputs);
    if (existing?.hash === hash) {
      if (existing.resolvedKernel?.aptStamp === kernel.aptStamp) return { manifest: existing, isRebuilt: false, durationMs: Date.now() - startedAt };
      // Same image, newer apt state: record it so the next run can skip apt-cache again.
      const refreshed: GuestImageManifest = { ...existing, resolvedKernel: kernel };
      writeFileSync(this.manifestPath, `${JSON.stringify(refreshed, null, 2)}\n`);
      return { manifest: refreshed, isRebuilt: false, durationMs: Date.now() - startedAt };
    }
    this.log(existing === undefined ? 'building the guest image' : 'guest image inputs changed: rebuilding the guest image');
    const manifest = await this.build(inputs, kernel, hash, startedAt);
    return { manifest, isRebuilt: true, durationMs: Date.now() - startedAt };
  }

  private async build(inputs: GuestImageInputs, resolvedKernel: ResolvedKernel, hash: string, startedAt: number): Promise<GuestImageManifest> {
    const { workDir, kernelPath, initrdPath } = this.options;
    const debDir = join(workDir, 'debs');
    const tree = join(workDir, 'kernel-tree');
    const rootfs = join(workDir, 'rootfs');
    mkdirSync(debDir, { recursive: true });
    rmSync(tree, { recursive: true, force: true });
    rmSync(rootfs, { recursive: true, force: true });

    const deb = await this.downloadKernel(debDir, inputs);
    await runChecked(this.runner, sh`dpkg-deb -x ${deb} ${tree}`, { timeoutMs: 5 * 60_000 });
    const releases = readdirSync(join(tree, 'lib', 'modules'));
    const kernelRelease = releases[0];
    if (releases.length !== 1 || kernelRelease === undefined) {
      throw new VirtualLabError('GUEST_IMAGE_BUILD_FAILED', `${basename(deb)} should hold one /lib/modules/<release>, found: ${releases.join(', ') || 'none'}`);
    }
    const vmlinuz = join(tree, 'boot', `vmlinuz-${kernelRelease}`);
    if (!existsSync(vmlinuz)) throw new VirtualLabError('GUEST_IMAGE_BUILD_FAILED', `${basename(deb)} has no boot/vmlinuz-${kernelRelease}`);

    // Debian's package ships no modules.dep: its postinst runs depmod, which we never run.
    await runChecked(this.runner, sh`depmod -b ${tree} ${kernelRelease}`);
    const moduleDir = join(tree, 'lib', 'modules', kernelRelease);
    const selection = selectModules(
      parseModulesDep(readFileSync(join(moduleDir, 'modules.dep'), 'utf8')),
      parseModulesBuiltin(readFileSync(join(moduleDir, 'modules.builtin'), 'utf8')),
      inputs.modules,
    );
    const requiredMissing = REQUIRED_GUEST_MODULES.filter((m) => selection.missing.includes(m));
    if (requiredMissing.length > 0) {
      throw new VirtualLabError('GUEST_IMAGE_BUILD_FAILED', `Kernel ${kernelRelease} has neither a module nor a built-in driver for ${requiredMissing.join(', ')}: the guest would have no network`);
    }

    await this.populateRootfs(rootfs, moduleDir, selection, kernelRelease, hash);
    const initrdTmp = `${initrdPath}.tmp`;
    const kernelTmp = `${kernelPath}.tmp`;
    mkdirSync(dirname(initrdPath), { recursive: true });
    mkdirSync(dirname(kernelPath), { recursive: true });
    await runChecked(
      this.runner,
      sh`cd ${rootfs} && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet | gzip -9 > ${initrdTmp}`,
      { timeoutMs: 5 * 60_000 },
    );
    copyFileSync(vmlinuz, kernelTmp);
    renameSync(kernelTmp, kernelPath);
    renameSync(initrdTmp, initrdPath);
    rmSync(tree, { recursive: true, force: true });
    rmSync(rootfs, { recursive: true, force: true });

    const manifest: GuestImageManifest = {
      hash,
      inputs,
      resolvedKernel,
      kernelRelease,
      modulesLoaded: selection.loadOrder,
      modulesBuiltIn: selection.builtIn,
      modulesMissing: selection.missing,
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - startedAt,
    };
    // Written last: a build that died half-way leaves no manifest and is redone.
    writeFileSync(this.manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    const absent = selection.missing.length > 0 ? `; not in this kernel: ${selection.missing.join(', ')}` : '';
    this.log(`guest image built in ${manifest.buildMs} ms: ${kernelRelease}, ${selection.loadOrder.length} modules${absent}`);
    return manifest;
  }

  private async downloadKernel(debDir: string, inputs: GuestImageInputs): Promise<string> {
    // apt-get download names the file <package>_<version with ':' as %3a>_<arch>.deb.
    const fileVersion = inputs.kernelVersion.replace(/:/g, '%3a');
    const find = (): string | undefined => readdirSync(debDir).find((f) => f.startsWith(`${inputs.kernelPackage}_${fileVersion}_`) && f.endsWith('.deb'));
    const cached = find();
    if (cached !== undefined) return join(debDir, cached);
    this.log(`downloading ${inputs.kernelPackage} ${inputs.kernelVersion}`);
    await runChecked(this.runner, sh`cd ${debDir} && apt-get download ${`${inputs.kernelPackage}=${inputs.kernelVersion}`}`, { timeoutMs: 10 * 60_000 });
    const downloaded = find();
    if (downloaded === undefined) throw new VirtualLabError('GUEST_IMAGE_BUILD_FAILED', `apt-get download ${inputs.kernelPackage}=${inputs.kernelVersion} left no .deb in ${debDir}`);
    return join(debDir, downloaded);
  }

  private async populateRootfs(rootfs: string, moduleDir: string, selection: ModuleSelection, kernelRelease: string, hash: string): Promise<void> {
    for (const dir of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'run', 'tmp', 'etc', 'root', 'lib/modules']) {
      mkdirSync(join(rootfs, dir), { recursive: true });
    }
    copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    const applets = (await runChecked(this.runner, sh`${BUSYBOX} --list-full`)).stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    for (const applet of applets) {
      const link = join(rootfs, applet);
      if (existsSync(link)) continue;
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync('/bin/busybox', link);
    }
    copyFileSync(join(this.sourceDir, 'init.sh'), join(rootfs, 'init'));
    chmodSync(join(rootfs, 'init'), 0o755);
    for (const source of readdirSync(this.sourceDir).filter((f) => f.endsWith('.c'))) {
      const output = join(rootfs, 'bin', source.replace(/\.c$/, ''));
      await runChecked(this.runner, sh`gcc -static -O2 -Wall -o ${output} ${join(this.sourceDir, source)}`);
    }

    // Debian 6.1 modules are plain .ko; later kernels compress them, and busybox insmod loads
    // them with init_module(), which takes an uncompressed image only.
    const loadOrder: string[] = [];
    for (const relative of selection.loadOrder) {
      const plain = relative.replace(/\.(xz|zst|gz)$/, '');
      const target = join(rootfs, 'lib', 'modules', plain);
      mkdirSync(dirname(target), { recursive: true });
      const source = join(moduleDir, relative);
      if (relative.endsWith('.xz')) await runChecked(this.runner, sh`xz -dc ${source} > ${target}`);
      else if (relative.endsWith('.zst')) await runChecked(this.runner, sh`zstd -qdc ${source} > ${target}`);
      else if (relative.endsWith('.gz')) await runChecked(this.runner, sh`gzip -dc ${source} > ${target}`);
      else copyFileSync(source, target);
      loadOrder.push(plain);
    }
    writeFileSync(join(rootfs, 'lib', 'modules', 'load-order'), loadOrder.map((m) => `${m}\n`).join(''));
    writeFileSync(join(rootfs, 'etc', 'hil-image'), `kernel=${kernelRelease}\nhash=${hash}\n`);
    // The kernel opens /dev/console before /init runs and devtmpfs is mounted: without the node
    // /init starts with no stdin/stdout at all.
    await runChecked(this.runner, sh`mknod -m 600 ${join(rootfs, 'dev', 'console')} c 5 1`);
  }
}
