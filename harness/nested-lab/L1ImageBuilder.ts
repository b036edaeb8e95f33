import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { raw, sh } from '../shell.js';
import type { LabLog } from '../virtual-lab/VirtualLabError.js';
import { collectL1ImageInputs, hashOf, L1_PACKAGES, nestedSourceDir, QEMU_11_PREFIX, type L1ImageInputs } from './l1ImageInputs.js';
import { NestedLabError } from './NestedLabError.js';
import { TRIXIE, type TrixieApt } from './TrixieApt.js';
import type { VfioModuleBuilder } from './VfioModuleBuilder.js';

/** The image's files on the controller. */
export interface L1ImageFiles {
  readonly rootImage: string;
  readonly kernel: string;
  readonly initrd: string;
  readonly manifest: string;
}

export interface L1ImageManifest {
  readonly hash: string;
  readonly inputs: L1ImageInputs;
  readonly kernelRelease: string;
  readonly builtAt: string;
  readonly buildMs: number;
  /** Where the cold build's time went: module build, root filesystem, customising, mkfs. */
  readonly phasesMs: Readonly<Record<string, number>>;
}

export interface L1ImageResult {
  readonly manifest: L1ImageManifest;
  readonly isRebuilt: boolean;
  readonly durationMs: number;
}

/** Units an L1 host never needs; each costs seconds of boot under TCG or wakes up mid-test. */
const MASKED_UNITS = [
  'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'fstrim.timer', 'e2scrub_all.timer',
  'e2scrub_reap.service', 'getty@tty1.service', 'sshd-keygen.service', 'systemd-pstore.service',
];
const MMDEBSTRAP_TIMEOUT_MS = 20 * 60_000;

export function l1ImageFiles(imageDir: string): L1ImageFiles {
  return { rootImage: join(imageDir, 'root.ext4'), kernel: join(imageDir, 'vmlinuz'), initrd: join(imageDir, 'initrd.img'), manifest: join(imageDir, 'image.json') };
}

/**
 * The L1 hosts' image from Debian packages only: a trixie root filesystem by mmdebstrap with the
 * rebuilt VFIO modules, QEMU 11.1 unpacked beside 10.0, and the project's nested/l1-root files,
 * made into ext4 without mounting (mkfs.ext4 -d). Rebuilt only when its inputs' hash changes.
 */
export class L1ImageBuilder {
  readonly files: L1ImageFiles;

  constructor(
    private readonly imageDir: string,
    private readonly debDir: string,
    private readonly imageSizeMiB: number,
    private readonly apt: TrixieApt,
    private readonly modules: VfioModuleBuilder,
    private readonly runner: CommandRunner,
    private readonly log: LabLog,
  ) {
    this.files = l1ImageFiles(imageDir);
  }

  current(): L1ImageManifest | undefined {
    const { manifest, rootImage, kernel, initrd } = this.files;
    if (![manifest, rootImage, kernel, initrd].every((f) => existsSync(f))) return undefined;
    return JSON.parse(readFileSync(manifest, 'utf8')) as L1ImageManifest;
  }

  async ensure(): Promise<L1ImageResult> {
    const startedAt = Date.now();
    await this.apt.refresh();
    const inputs = await collectL1ImageInputs(this.apt, this.imageSizeMiB);
    const hash = hashOf(inputs);
    const existing = this.current();
    if (existing?.hash === hash) return { manifest: existing, isRebuilt: false, durationMs: Date.now() - startedAt };
    this.log(existing === undefined ? 'building the L1 image' : 'L1 image inputs changed: rebuilding the L1 image');
    const manifest = await this.build(inputs, hash, startedAt);
    return { manifest, isRebuilt: true, durationMs: Date.now() - startedAt };
  }

  private async build(inputs: L1ImageInputs, hash: string, startedAt: number): Promise<L1ImageManifest> {
    mkdirSync(this.imageDir, { recursive: true });
    const root = join(this.imageDir, 'rootfs.tmp');
    rmSync(root, { recursive: true, force: true });
    const phasesMs: Record<string, number> = {};
    const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
      const phaseStart = Date.now();
      const value = await work();
      phasesMs[phase] = Date.now() - phaseStart;
      return value;
    };
    // The module build (chroot + compile) and the root filesystem are independent: run both, and
    // report both failures when both fail.
    const [modules, rootfs, debs] = await Promise.allSettled([
      timed('modules', () => this.modules.ensure(inputs.modules)),
      timed('rootfs', () => this.makeRootfs(root, inputs)),
      timed('qemu11Download', () => this.apt.download(inputs.backportsQemu, this.debDir)),
    ]);
    const failures = [modules, rootfs, debs].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) {
      throw new NestedLabError('NESTED_IMAGE_BUILD_FAILED', `Building the L1 image failed:\n${failures.map((f) => `  ${errorMessage(f.reason)}`).join('\n')}`, { cause: failures[0]!.reason });
    }
    const moduleFiles = (modules as PromiseFulfilledResult<Awaited<ReturnType<VfioModuleBuilder['ensure']>>>).value.files;
    const debFiles = (debs as PromiseFulfilledResult<string[]>).value;
    const release = inputs.modules.kernel.release;
    await timed('customise', () => this.customise(root, release, moduleFiles, debFiles, hash));
    await timed('mkfs', () => this.makeImage(root, release));
    rmSync(root, { recursive: true, force: true });
    const manifest: L1ImageManifest = { hash, inputs, kernelRelease: release, builtAt: new Date().toISOString(), buildMs: Date.now() - startedAt, phasesMs };
    // Written last: an interrupted build leaves no manifest and is redone.
    writeFileSync(this.files.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
    this.log(`L1 image built in ${manifest.buildMs} ms (${Object.entries(phasesMs).map(([k, v]) => `${k} ${v} ms`).join(', ')})`);
    return manifest;
  }

  private async makeRootfs(root: string, inputs: L1ImageInputs): Promise<void> {
    const include = Object.entries(inputs.packages).map(([pkg, version]) => `${pkg}=${version}`);
    this.log(`mmdebstrap ${TRIXIE}: ${Object.keys(L1_PACKAGES).join(', ')}`);
    await runChecked(
      this.runner,
      sh`mmdebstrap --quiet --mode=root --variant=apt --include=${include.join(',')} ${TRIXIE} ${root} ${this.apt.sourceLines}`,
      { timeoutMs: MMDEBSTRAP_TIMEOUT_MS },
    );
  }

  private async customise(root: string, release: string, moduleFiles: readonly string[], debFiles: readonly string[], hash: string): Promise<void> {
    const updates = join(root, 'lib', 'modules', release, 'updates', 'vfio-hil');
    const qemu11 = join(root, QEMU_11_PREFIX);
    const overlay = join(nestedSourceDir(), 'l1-root');
    const steps = [
      'set -e',
      sh`mkdir -p ${updates} ${qemu11}`,
      sh`cp ${moduleFiles} ${updates}/`,
      // updates/ comes before kernel/ in depmod's search order: the rebuilt stack wins.
      sh`chroot ${root} depmod -a ${release}`,
      // QEMU 11.1 and its firmware unpacked, not installed: dpkg cannot hold two versions of one
      // package. QEMU finds its data relative to its binary, so the tree works where it lies.
      ...debFiles.map((deb) => sh`dpkg-deb -x ${deb} ${qemu11}`),
      sh`cp -rT ${overlay} ${root}`,
      sh`chmod 755 ${join(root, 'usr/local/sbin/hil-setup')}`,
      sh`chroot ${root} systemctl enable hil-setup.service`,
      sh`chroot ${root} systemctl mask ${MASKED_UNITS}`,
      // Every L1 gets its own host key through fw_cfg; none is baked into the shared image.
      sh`rm -f ${join(root, 'etc/ssh')}/ssh_host_${raw('*')}`,
      sh`printf '%s\n' vfio-hil-l1 > ${join(root, 'etc/hostname')}`,
      sh`printf '%s\n' ${'/dev/vda / ext4 rw,errors=remount-ro 0 1'} > ${join(root, 'etc/fstab')}`,
      sh`printf 'hash=%s\nrelease=%s\n' ${hash} ${release} > ${join(root, 'etc/vfio-hil-image')}`,
    ];
    await runChecked(this.runner, steps.join('\n'), { timeoutMs: 5 * 60_000 });
  }

  private async makeImage(root: string, release: string): Promise<void> {
    const { rootImage, kernel, initrd } = this.files;
    const tmp = `${rootImage}.tmp`;
    rmSync(tmp, { force: true });
    await runChecked(this.runner, sh`truncate -s ${`${this.imageSizeMiB}M`} ${tmp} && mkfs.ext4 -q -F -L vfio-hil-l1 -d ${root} ${tmp}`, { timeoutMs: 10 * 60_000 });
    copyFileSync(join(root, 'boot', `vmlinuz-${release}`), `${kernel}.tmp`);
    copyFileSync(join(root, 'boot', `initrd.img-${release}`), `${initrd}.tmp`);
    // Running L1s keep the old inode open (their writes go to a snapshot): renaming is safe.
    renameSync(tmp, rootImage);
    renameSync(`${kernel}.tmp`, kernel);
    renameSync(`${initrd}.tmp`, initrd);
  }
}
