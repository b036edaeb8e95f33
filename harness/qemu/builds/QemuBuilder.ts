import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { errorMessage } from '../../errors.js';
import { runChecked } from '../../LocalRunner.js';
import type { CommandRunner } from '../../runner.js';
import { raw, sh } from '../../shell.js';
import { applyPatch } from './applyPatch.js';
import { ensureBuildTools } from './buildTools.js';
import type { QemuBuildPlan } from '../../config/buildPlan.js';
import { QemuBuildError } from '../../config/QemuBuildError.js';
import type { SourceBuildIdentity } from '../../config/QemuBuildIdentity.js';

export type BuildStep = 'tools' | 'base' | 'patches' | 'configure' | 'compile' | 'install';

export interface BuildProgress {
  step(step: BuildStep, detail: string): void;
  /** ninja's [done/total] of the compile step. */
  objects(done: number, total: number): void;
  log(line: string): void;
}

export interface QemuBuildResult {
  readonly identity: SourceBuildIdentity;
  /** cached: nothing built; incremental: from the tree of an earlier build; cold: from the base; resumed: an interrupted build finished. */
  readonly how: 'cached' | 'incremental' | 'cold' | 'resumed';
  /** The earlier build an incremental one started from (its inputs hash). */
  readonly from?: string;
  /** The cache entry on the build machine: install/ (DESTDIR), tree/, build.log. */
  readonly entryDir: string;
  readonly installDir: string;
  readonly logFile: string;
  readonly durationMs: number;
}

/** What a finished entry records about itself, read when looking for a tree to start from. */
interface EntryRecord {
  readonly treeKey: string;
  readonly patchShas: readonly string[];
  readonly identity: SourceBuildIdentity;
  /** The fixed path the tree was configured and built at: builds from its tree are made there too. */
  readonly buildPath?: string;
}

const BUILD_TIMEOUT_MS = 4 * 3600_000;
const POLL_MS = 2_000;

/** The entry folder of a build under a cache root (the same layout on the controller and the hosts). */
export function entryDirOf(cacheDir: string, inputsHash: string): string {
  return posix.join(cacheDir, 'qemu', 'builds', inputsHash.slice(0, 16));
}

/**
 * The earlier build whose tree this one can start from: same base, configure options and prefix,
 * and patches that are all among this build's. The one with the most patches wins.
 */
export function nearestEntry(plan: Pick<QemuBuildPlan, 'treeKey' | 'patches'>, entries: readonly { dir: string; record: EntryRecord }[]): { dir: string; record: EntryRecord; missing: QemuBuildPlan['patches'] } | undefined {
  let best: { dir: string; record: EntryRecord; missing: QemuBuildPlan['patches'] } | undefined;
  for (const entry of entries) {
    if (entry.record.treeKey !== plan.treeKey) continue;
    const remaining = [...plan.patches];
    const isSubset = entry.record.patchShas.every((sha) => {
      const i = remaining.findIndex((p) => p.sha256 === sha);
      if (i < 0) return false;
      remaining.splice(i, 1);
      return true;
    });
    if (!isSubset) continue;
    if (best === undefined || remaining.length < best.missing.length) best = { ...entry, missing: remaining };
  }
  return best;
}

/**
 * Makes a QEMU source build on a build machine through its CommandRunner, cached under the lab's
 * cache folder by the hash of its inputs. Every build runs at one fixed path per tree key (its own
 * tree bind-mounted there in a private mount namespace), because meson writes absolute paths into
 * the build folder: a copied tree is then as good as the original, and ninja rebuilds only what
 * the added patches touched.
 */
export class QemuBuilder {
  constructor(
    private readonly runner: CommandRunner,
    /** The cache root on the build machine. */
    private readonly cacheDir: string,
    private readonly progress: BuildProgress,
  ) {}

  async isCached(plan: QemuBuildPlan): Promise<boolean> {
    const entry = entryDirOf(this.cacheDir, plan.identity.inputsHash);
    return (await this.runner.run(sh`test -f ${posix.join(entry, 'DONE')}`)).exitCode === 0;
  }

  /** `baseArchive`: the base as a tar.gz already on the build machine. */
  async ensure(plan: QemuBuildPlan, baseArchive: () => Promise<string>): Promise<QemuBuildResult> {
    const startedAt = Date.now();
    const entry = entryDirOf(this.cacheDir, plan.identity.inputsHash);
    const result = (how: QemuBuildResult['how'], from?: string): QemuBuildResult => ({
      identity: plan.identity, how, ...(from === undefined ? {} : { from }), entryDir: entry,
      installDir: posix.join(entry, 'install'), logFile: posix.join(entry, 'build.log'), durationMs: Date.now() - startedAt,
    });
    if (await this.isCached(plan)) return result('cached');

    this.progress.step('tools', `checking the build tools on ${this.runner.where}`);
    await ensureBuildTools(this.runner, (line) => this.progress.log(line));
    const work = `${entry}.partial`;
    const tree = posix.join(work, 'tree');
    const log = posix.join(work, 'build.log');
    const configured = posix.join(work, 'CONFIGURED');
    const buildPathFile = posix.join(work, 'BUILD_PATH');
    let at = posix.join(this.cacheDir, 'qemu', 'at', plan.treeKey.slice(0, 16));
    const inMount = (command: string): string =>
      sh`unshare --mount --propagation private sh -c ${`mount --bind ${tree} ${at} && cd ${at} && ${command}`}`;
    const logTo = sh` >> ${log} 2>&1`;
    // An interrupted build of the same inputs that got past configure goes on where it stopped.
    const isResumed = (await this.runner.run(sh`cat ${configured} 2>/dev/null`)).stdout.trim() === plan.identity.inputsHash;
    let nearest: ReturnType<typeof nearestEntry>;
    if (isResumed) {
      this.progress.step('base', `resuming the interrupted build in ${work}`);
      at = (await this.runner.run(sh`cat ${buildPathFile} 2>/dev/null`)).stdout.trim() || at;
    } else {
      nearest = nearestEntry(plan, await this.readEntries());
      // meson wrote the path the tree was configured at into its build folder: keep building there.
      at = nearest?.record.buildPath ?? at;
      await this.prepareTree(plan, nearest, baseArchive, { work, tree, log, at });
      await runChecked(this.runner, sh`printf '%s\n' ${at} > ${buildPathFile}`);
      if (nearest === undefined) {
        this.progress.step('configure', plan.configureArgs.join(' '));
        await this.runLogged(inMount(sh`./configure ${plan.configureArgs}` + logTo), log, 'configure');
      } else {
        // Only the version line differs from the tree's configure: meson regenerates on the next ninja.
        this.progress.step('configure', `pkgversion ${plan.identity.pkgVersion}`);
        await this.runLogged(inMount(sh`build/pyvenv/bin/meson configure build ${`-Dpkgversion=${plan.identity.pkgVersion}`}` + logTo), log, 'meson configure');
      }
      await runChecked(this.runner, sh`printf '%s\n' ${plan.identity.inputsHash} > ${configured}`);
    }
    // The emulator only: the default target also builds QEMU's unit tests, about as many steps again.
    this.progress.step('compile', 'ninja qemu-system-x86_64');
    await this.compile(inMount(sh`ninja -C build qemu-system-x86_64` + logTo), log);
    this.progress.step('install', plan.spec.prefix);
    const install = posix.join(work, 'install');
    const bin = posix.join(install, plan.spec.prefix, 'bin');
    // By hand rather than `ninja install`, which builds every default target first. The data folder
    // is left for the host's firmware links (installBuild); the hosts get a stripped copy.
    await runChecked(this.runner, sh`rm -rf ${install} && mkdir -p ${bin} ${posix.join(install, plan.spec.prefix, 'share', 'qemu')} && cp ${posix.join(tree, 'build', 'qemu-system-x86_64')} ${bin}/ && strip ${posix.join(bin, 'qemu-system-x86_64')}`);
    const record: EntryRecord = { treeKey: plan.treeKey, patchShas: plan.patches.map((p) => p.sha256), identity: plan.identity, buildPath: at };
    await runChecked(this.runner, sh`cat > ${posix.join(work, 'inputs.json')}`, { stdin: `${JSON.stringify(record, null, 2)}\n` });
    await runChecked(this.runner, sh`rm -rf ${entry} && mv ${work} ${entry} && date -u +%FT%TZ > ${posix.join(entry, 'DONE')}`);
    return result(isResumed ? 'resumed' : nearest === undefined ? 'cold' : 'incremental', nearest?.record.identity.inputsHash);
  }

  /** A fresh tree for the build: a copy of the nearest cached build's, or the base; then the patches it lacks. */
  private async prepareTree(plan: QemuBuildPlan, nearest: ReturnType<typeof nearestEntry>, baseArchive: () => Promise<string>, paths: { work: string; tree: string; log: string; at: string }): Promise<void> {
    const { work, tree, log, at } = paths;
    await runChecked(this.runner, sh`rm -rf ${work} && mkdir -p ${posix.join(work, 'patches')} ${at}`);
    const toApply = nearest === undefined ? plan.patches : nearest.missing;
    if (nearest !== undefined) {
      this.progress.step('base', `copying the tree of build ${nearest.record.identity.inputsHash.slice(0, 12)} (${nearest.record.identity.name}), which lacks ${toApply.length} of the patches`);
      await runChecked(this.runner, sh`cp -a --reflink=auto ${posix.join(nearest.dir, 'tree')} ${tree}`, { timeoutMs: BUILD_TIMEOUT_MS });
    } else {
      const archive = await baseArchive();
      this.progress.step('base', `unpacking ${plan.identity.base}`);
      await runChecked(this.runner, sh`mkdir -p ${tree} && tar -xzf ${archive} -C ${tree}`, { timeoutMs: BUILD_TIMEOUT_MS });
    }
    await this.appendLog(log, `# ${plan.name}: ${plan.identity.pkgVersion}\n# base ${plan.identity.base}${nearest === undefined ? '' : `, from the tree of ${nearest.record.identity.inputsHash}`}\n`);
    for (const [i, patch] of toApply.entries()) {
      this.progress.step('patches', `${i + 1}/${toApply.length} ${patch.name} (${patch.mode})`);
      const copy = posix.join(work, 'patches', `${String(i).padStart(3, '0')}-${patch.name}`);
      await runChecked(this.runner, sh`cat > ${copy}`, { stdin: patch.text });
      await applyPatch(this.runner, tree, patch, copy);
      await this.appendLog(log, `# applied ${patch.name} (${patch.mode}${patch.commit === null ? ', local' : `, ${patch.commit}`})\n`);
    }
  }

  private async readEntries(): Promise<{ dir: string; record: EntryRecord }[]> {
    const builds = posix.join(this.cacheDir, 'qemu', 'builds');
    const listing = await this.runner.run(sh`for d in ${raw(`${sh`${builds}`}/*`)}; do [ -f "$d/DONE" ] && [ -d "$d/tree" ] && [ -f "$d/inputs.json" ] && printf '\\036%s\\n' "$d" && cat "$d/inputs.json"; done; true`);
    const entries: { dir: string; record: EntryRecord }[] = [];
    for (const chunk of listing.stdout.split('\x1e').filter((c) => c.trim() !== '')) {
      const newline = chunk.indexOf('\n');
      try {
        entries.push({ dir: chunk.slice(0, newline), record: JSON.parse(chunk.slice(newline + 1)) as EntryRecord });
      } catch (error) {
        // An entry whose record cannot be read is not a tree to start from; the build goes on without it.
        this.progress.log(`ignoring ${chunk.slice(0, newline)}: its inputs.json cannot be read (${errorMessage(error)})`);
      }
    }
    return entries;
  }

  private async appendLog(log: string, text: string): Promise<void> {
    await runChecked(this.runner, sh`cat >> ${log}`, { stdin: text });
  }

  private async runLogged(command: string, log: string, what: string): Promise<void> {
    const result = await this.runner.run(command, { timeoutMs: BUILD_TIMEOUT_MS });
    if (result.exitCode === 0) return;
    const tail = (await this.runner.run(sh`tail -n 30 ${log}`)).stdout;
    throw new QemuBuildError('QEMU_BUILD_FAILED', `QEMU ${what} failed on ${this.runner.where} (exit ${result.exitCode}${result.stderr.trim() === '' ? '' : `: ${result.stderr.trim().slice(-500)}`}); the build log is ${log}:\n${tail}`, { data: { what, log, exitCode: result.exitCode } });
  }

  /** Runs ninja and, while it runs, reads its [n/N] lines from the log for the progress display. */
  private async compile(command: string, log: string): Promise<void> {
    let isDone = false;
    const poll = async (): Promise<void> => {
      while (!isDone) {
        const tail = await this.runner.run(sh`tail -c 4096 ${log}`);
        const matches = [...tail.stdout.matchAll(/^\[(\d+)\/(\d+)\]/gm)];
        const last = matches.at(-1);
        if (last !== undefined) this.progress.objects(Number(last[1]), Number(last[2]));
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    };
    const polling = poll();
    try {
      await this.runLogged(command, log, 'compile (ninja)');
    } finally {
      isDone = true;
      await polling;
    }
  }
}

/** The record of a finished build, read on the controller (for builds made there). */
export function readEntryIdentity(entryDir: string): SourceBuildIdentity {
  return (JSON.parse(readFileSync(posix.join(entryDir, 'inputs.json'), 'utf8')) as EntryRecord).identity;
}
