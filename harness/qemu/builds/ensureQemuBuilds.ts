import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { LabConfig, QemuBuildSpec } from '../../config/types.js';
import { HostConnections } from '../../host/HostConnections.js';
import { LocalRunner, runChecked } from '../../LocalRunner.js';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import type { Environment } from '../../config/environment.js';
import { planQemuBuild, type QemuBuildPlan } from '../../config/buildPlan.js';
import { ensureBaseArchive } from './fetchBase.js';
import { installBuild } from './installBuild.js';
import { QemuBuilder, type BuildProgress, type QemuBuildResult } from './QemuBuilder.js';
import { QemuBuildError } from '../../config/QemuBuildError.js';

export interface BuiltQemu {
  readonly plan: QemuBuildPlan;
  /** Where it was built: "controller" or a host's name. */
  readonly on: string;
  readonly result: QemuBuildResult;
}

/** The source builds of the lab file by name (all of them when none are named). */
export function sourceBuildsNamed(lab: LabConfig, names: readonly string[]): QemuBuildSpec[] {
  const wanted = names.length === 0 ? Object.keys(lab.qemu) : names;
  return wanted.flatMap((name) => {
    const build = lab.qemu[name];
    if (build === undefined) throw new QemuBuildError('QEMU_BUILD_UNKNOWN', `${lab.file} has no QEMU build "${name}" under qemu: (it has ${Object.keys(lab.qemu).join(', ')})`);
    if (build.source === undefined) {
      if (names.length > 0) throw new QemuBuildError('QEMU_BUILD_NOT_SOURCE', `qemu.${name} of ${lab.file} is a binary (${build.binary}), not a source build: there is nothing to build`);
      return [];
    }
    return [build];
  });
}

/**
 * Builds the named source builds where their description says: on the controller once, or on
 * every host that uses the build. In the order given, so a build that extends another (one more
 * patch) is made incrementally from the first when both are named.
 */
export async function ensureQemuBuilds(lab: LabConfig, builds: readonly QemuBuildSpec[], environment: Environment, progress: (build: string, on: string) => BuildProgress): Promise<BuiltQemu[]> {
  const controller = new LocalRunner();
  const built: BuiltQemu[] = [];
  const baseFor = (plan: QemuBuildPlan) => (): Promise<string> => ensureBaseArchive(plan.spec.base, plan.baseKey, lab.cacheDir, controller, (line) => progress(plan.name, 'controller').log(line));
  const connections = new HostConnections(lab, environment);
  try {
    for (const build of builds) {
      const plan = planQemuBuild(build);
      if (plan.spec.buildOn === 'controller') {
        const result = await new QemuBuilder(controller, lab.cacheDir, progress(plan.name, 'controller')).ensure(plan, baseFor(plan));
        built.push({ plan, on: 'controller', result });
        continue;
      }
      for (const host of Object.values(lab.hosts).filter((h) => h.qemu === build.name)) {
        const runner = await connections.open(host);
        const hostProgress = progress(plan.name, host.name);
        const upload = async (): Promise<string> => {
          const local = await baseFor(plan)();
          const remote = posix.join(lab.cacheDir, 'qemu', 'bases', posix.basename(local));
          await copyToHost(runner, local, remote, hostProgress);
          return remote;
        };
        const result = await new QemuBuilder(runner, lab.cacheDir, hostProgress).ensure(plan, upload);
        built.push({ plan, on: host.name, result });
      }
    }
  } finally {
    await connections.closeAll();
  }
  return built;
}

async function copyToHost(runner: CommandRunner, local: string, remote: string, progress: BuildProgress): Promise<void> {
  if ((await runner.run(sh`test -f ${remote}`)).exitCode === 0) return;
  progress.step('base', `copying ${local} to ${runner.where}`);
  await runChecked(runner, sh`mkdir -p ${posix.dirname(remote)} && cat > ${`${remote}.tmp`} && mv ${`${remote}.tmp`} ${remote}`, { stdin: readFileSync(local), timeoutMs: 30 * 60_000 });
}

/**
 * Puts every controller-built QEMU that a host of the lab uses onto that host under the build's
 * prefix (unless the host already has that very build), so preflight and the run find it. Builds
 * made on the hosts install themselves there.
 */
export async function installControllerBuilds(lab: LabConfig, connections: HostConnections, log: (line: string) => void): Promise<void> {
  for (const host of Object.values(lab.hosts)) {
    const build = lab.qemu[host.qemu];
    if (build?.source === undefined) continue;
    const plan = planQemuBuild(build);
    const entry = posix.join(lab.cacheDir, 'qemu', 'builds', plan.identity.inputsHash.slice(0, 16));
    if (plan.spec.buildOn === 'controller' && !existsSync(posix.join(entry, 'DONE'))) {
      throw new QemuBuildError('QEMU_BUILD_MISSING', `qemu.${build.name} is not built on the controller (no ${entry}); run \`hil --lab ${lab.file} qemu build ${build.name}\``);
    }
    const runner = await connections.open(host);
    const isInstalled = await installBuild(runner, plan, { dir: posix.join(entry, 'install'), isOnController: plan.spec.buildOn === 'controller' }, log);
    if (isInstalled) log(`${host.name}: installed qemu.${build.name} (${plan.identity.pkgVersion}) under ${plan.spec.prefix}`);
  }
}

/**
 * What `hil run` does before its preflight: builds the source builds its hosts use (a cached
 * build costs one check) and installs the controller-built ones on those hosts.
 */
export async function prepareRunQemuBuilds(lab: LabConfig, environment: Environment, progress: (build: string, on: string) => BuildProgress, log: (line: string) => void): Promise<void> {
  const used = [...new Set(Object.values(lab.hosts).map((h) => h.qemu))].map((name) => lab.qemu[name]).filter((b): b is QemuBuildSpec => b?.source !== undefined);
  if (used.length === 0) return;
  await ensureQemuBuilds(lab, used, environment, progress);
  const connections = new HostConnections(lab, environment);
  try {
    await installControllerBuilds(lab, connections, log);
  } finally {
    await connections.closeAll();
  }
}
