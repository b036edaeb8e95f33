import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import type { LabLog } from '../virtual-lab/VirtualLabError.js';
import { hashOf, MODULE_SOURCE_PACKAGE, nestedSourceDir, type ModuleInputs } from './l1ImageInputs.js';
import { NestedLabError } from './NestedLabError.js';
import { TRIXIE } from './TrixieApt.js';

/** The modules the L1 image must carry; a build that misses one fails. */
export const REBUILT_MODULES = ['iommufd', 'vfio', 'vfio_iommu_type1', 'vfio-pci-core', 'vfio-pci', 'mdev', 'mtty'] as const;

export interface ModuleBuildResult {
  /** Folder holding the .ko files. */
  readonly dir: string;
  readonly files: readonly string[];
  readonly isRebuilt: boolean;
  readonly isBuildRootRebuilt: boolean;
  readonly durationMs: number;
}

const MMDEBSTRAP_TIMEOUT_MS = 20 * 60_000;
const BUILD_TIMEOUT_MS = 20 * 60_000;

/**
 * Rebuilds Debian 6.12's VFIO/IOMMUFD stack and the mtty sample with IOMMUFD, VFIO_DEVICE_CDEV and
 * IOMMUFD_DRIVER on (Debian builds them off), in a trixie build chroot made by mmdebstrap. Both
 * the chroot and the modules are cached by their inputs.
 */
export class VfioModuleBuilder {
  constructor(
    private readonly buildRootDir: string,
    private readonly modulesDir: string,
    private readonly sourceLines: readonly string[],
    private readonly runner: CommandRunner,
    private readonly log: LabLog,
  ) {}

  outputDir(inputs: ModuleInputs): string {
    return join(this.modulesDir, hashOf(inputs).slice(0, 16));
  }

  /** The cached modules for these inputs, if a complete build is there. */
  cached(inputs: ModuleInputs): string[] | undefined {
    const dir = this.outputDir(inputs);
    if (!existsSync(join(dir, 'modules.json'))) return undefined;
    return readdirSync(dir).filter((f) => f.endsWith('.ko')).map((f) => join(dir, f));
  }

  async ensure(inputs: ModuleInputs): Promise<ModuleBuildResult> {
    const startedAt = Date.now();
    const cached = this.cached(inputs);
    if (cached !== undefined) return { dir: this.outputDir(inputs), files: cached, isRebuilt: false, isBuildRootRebuilt: false, durationMs: Date.now() - startedAt };
    const isBuildRootRebuilt = await this.ensureBuildRoot(inputs);
    const files = await this.build(inputs);
    return { dir: this.outputDir(inputs), files, isRebuilt: true, isBuildRootRebuilt, durationMs: Date.now() - startedAt };
  }

  private buildRootKey(inputs: ModuleInputs): string {
    return hashOf({ sourceVersion: inputs.sourceVersion, headers: inputs.kernel.headersPackage, version: inputs.kernel.version, sources: this.sourceLines });
  }

  /** Makes the chroot unless one with the same source and headers versions is there; returns whether it made one. */
  private async ensureBuildRoot(inputs: ModuleInputs): Promise<boolean> {
    const stamp = join(this.buildRootDir, '.vfio-hil-key');
    const key = this.buildRootKey(inputs);
    if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === key) return false;
    const startedAt = Date.now();
    const tmp = `${this.buildRootDir}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    const version = inputs.kernel.version;
    const include = [`${MODULE_SOURCE_PACKAGE}=${inputs.sourceVersion}`, `${inputs.kernel.headersPackage}=${version}`, 'make', 'gcc', 'libc6-dev', 'xz-utils', 'kmod'];
    this.log(`making the module build chroot (${TRIXIE}, ${MODULE_SOURCE_PACKAGE} ${inputs.sourceVersion}, ${inputs.kernel.headersPackage})`);
    await runChecked(
      this.runner,
      sh`mmdebstrap --quiet --mode=root --variant=apt --include=${include.join(',')} ${TRIXIE} ${tmp} ${this.sourceLines}`,
      { timeoutMs: MMDEBSTRAP_TIMEOUT_MS },
    );
    rmSync(this.buildRootDir, { recursive: true, force: true });
    renameSync(tmp, this.buildRootDir);
    writeFileSync(stamp, `${key}\n`);
    this.log(`module build chroot made in ${Date.now() - startedAt} ms`);
    return true;
  }

  private async build(inputs: ModuleInputs): Promise<string[]> {
    const startedAt = Date.now();
    const kbuildInRoot = '/var/tmp/vfio-hil-kbuild';
    const outInRoot = '/var/tmp/vfio-hil-modules-out';
    const kbuild = join(this.buildRootDir, kbuildInRoot);
    rmSync(kbuild, { recursive: true, force: true });
    cpSync(join(nestedSourceDir(), 'modules'), kbuild, { recursive: true });
    this.log(`building ${REBUILT_MODULES.join(', ')} for ${inputs.kernel.release}`);
    await runChecked(this.runner, sh`chroot ${this.buildRootDir} /bin/sh ${`${kbuildInRoot}/build-modules.sh`} ${inputs.kernel.release} ${kbuildInRoot} ${outInRoot}`, {
      timeoutMs: BUILD_TIMEOUT_MS,
    });
    const built = join(this.buildRootDir, outInRoot);
    const names = readdirSync(built).filter((f) => f.endsWith('.ko'));
    const missing = REBUILT_MODULES.filter((m) => !names.includes(`${m}.ko`));
    if (missing.length > 0) throw new NestedLabError('NESTED_MODULE_BUILD_FAILED', `The module build in ${this.buildRootDir} produced ${names.join(', ') || 'nothing'}; missing ${missing.join(', ')}`);
    const dir = this.outputDir(inputs);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const name of names) cpSync(join(built, name), join(dir, name));
    // Written last: a half-copied folder has no manifest and is rebuilt.
    writeFileSync(join(dir, 'modules.json'), `${JSON.stringify({ inputs, modules: names, builtAt: new Date().toISOString(), buildMs: Date.now() - startedAt }, null, 2)}\n`);
    this.log(`modules built in ${Date.now() - startedAt} ms: ${names.join(', ')}`);
    return names.map((n) => join(dir, n));
  }
}
