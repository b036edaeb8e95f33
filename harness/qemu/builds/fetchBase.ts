import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked } from '../../LocalRunner.js';
import type { QemuSourceBase } from '../../config/types.js';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import { controllerMirror, readControllerAptSources } from '../../nested-lab/TrixieApt.js';
import { QemuBuildError } from '../../config/QemuBuildError.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Source lists younger than this are reused, so a warm cache needs no network at all. */
const LISTS_MAX_AGE_MS = 6 * 3600_000;
const FETCH_TIMEOUT_MS = 20 * 60_000;

/**
 * Makes the base source of a build as a tar.gz on the controller, once per base: the archive is
 * what every build machine unpacks (the controller itself, or a host it is copied to).
 * A Debian base is fetched with apt-get source through a private apt state (the controller's own
 * sources are not changed, as with the nested lab's trixie lists) and unpacked by dpkg-source,
 * which applies Debian's own patches (the +ds source needs some of them to build without blobs).
 */
export async function ensureBaseArchive(base: QemuSourceBase, key: string, cacheDir: string, runner: CommandRunner, log: (line: string) => void): Promise<string> {
  const basesDir = join(cacheDir, 'qemu', 'bases');
  const archive = join(basesDir, `${key.slice(0, 16)}.tar.gz`);
  if (existsSync(archive)) return archive;
  mkdirSync(basesDir, { recursive: true });
  const work = `${archive}.work`;
  await runChecked(runner, sh`rm -rf ${work} && mkdir -p ${work}`);
  const tree = join(work, 'tree');
  switch (base.kind) {
    case 'debian': {
      const downloads = join(cacheDir, 'qemu', 'debian-sources', base.version.replace(/[^A-Za-z0-9.+~-]/g, '_'));
      await fetchDebianSource(base.version, base.suite, downloads, cacheDir, runner, log);
      const dsc = readdirSync(downloads).find((f) => f.endsWith('.dsc'));
      if (dsc === undefined) throw new QemuBuildError('QEMU_BASE_FETCH_FAILED', `apt-get source qemu=${base.version} left no .dsc in ${downloads}`);
      log(`unpacking ${dsc} with Debian's patches`);
      await runChecked(runner, sh`dpkg-source --no-check -x ${join(downloads, dsc)} ${tree}`, { timeoutMs: FETCH_TIMEOUT_MS });
      break;
    }
    case 'tarball':
      await runChecked(runner, sh`mkdir -p ${tree} && tar -xf ${base.path} -C ${tree} --strip-components=1`, { timeoutMs: FETCH_TIMEOUT_MS });
      break;
    case 'tree':
      await runChecked(runner, sh`cp -a ${base.path} ${tree}`, { timeoutMs: FETCH_TIMEOUT_MS });
      break;
    case 'git':
      log(`cloning ${base.url} at ${base.ref}`);
      await runChecked(runner, sh`git clone --quiet --depth 1 --branch ${base.ref} --recurse-submodules --shallow-submodules ${base.url} ${tree}`, { timeoutMs: FETCH_TIMEOUT_MS });
      break;
  }
  if (!existsSync(join(tree, 'configure')) || !existsSync(join(tree, 'meson.build'))) {
    throw new QemuBuildError('QEMU_BASE_NOT_QEMU', `The base ${JSON.stringify(base)} gave ${tree}, which has no configure and meson.build at its top: it is not a QEMU source tree`);
  }
  await runChecked(runner, sh`tar -C ${tree} -czf ${`${archive}.tmp`} . && mv ${`${archive}.tmp`} ${archive} && rm -rf ${work}`, { timeoutMs: FETCH_TIMEOUT_MS });
  return archive;
}

async function fetchDebianSource(version: string, suite: string, downloads: string, cacheDir: string, runner: CommandRunner, log: (line: string) => void): Promise<void> {
  if (existsSync(downloads) && readdirSync(downloads).some((f) => f.endsWith('.dsc'))) return;
  const aptDir = join(cacheDir, 'apt', `${suite}-src`);
  for (const sub of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(aptDir, sub), { recursive: true });
  const status = join(aptDir, 'status');
  if (!existsSync(status)) writeFileSync(status, '');
  const sourcesFile = join(aptDir, 'sources.list');
  const mirror = controllerMirror(readControllerAptSources());
  writeFileSync(sourcesFile, `deb-src [signed-by=${KEYRING}] ${mirror} ${suite} main\n`);
  const o = (key: string, value: string): string[] => ['-o', `${key}=${value}`];
  const options = [
    ...o('Dir::Etc::SourceList', sourcesFile), ...o('Dir::Etc::SourceParts', '/dev/null'),
    ...o('Dir::Etc::Preferences', '/dev/null'), ...o('Dir::Etc::PreferencesParts', '/dev/null'),
    ...o('Dir::State::Lists', join(aptDir, 'lists')), ...o('Dir::State::status', status),
    ...o('Dir::Cache', join(aptDir, 'cache')), ...o('Debug::NoLocking', '1'),
  ];
  const stamp = join(aptDir, 'updated-at');
  if (!existsSync(stamp) || Date.now() - statSync(stamp).mtimeMs > LISTS_MAX_AGE_MS) {
    log(`apt-get update for the ${suite} source index (private lists in ${aptDir})`);
    await runChecked(runner, sh`apt-get ${options} -q update`, { timeoutMs: FETCH_TIMEOUT_MS });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
  }
  log(`apt-get source qemu=${version} from ${suite}`);
  const partial = `${downloads}.partial`;
  const result = await runner.run(sh`rm -rf ${partial} && mkdir -p ${partial} && cd ${partial} && apt-get ${options} -q source --download-only ${`qemu=${version}`}`, { timeoutMs: FETCH_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throw new QemuBuildError('QEMU_BASE_FETCH_FAILED', `apt-get source qemu=${version} from ${suite} failed on ${runner.where}: ${result.stderr.trim().split('\n').slice(-4).join(' ')}. Check that ${suite}'s source index serves that version (apt-cache showsrc qemu with a deb-src line for ${suite})`, { data: { version, suite, stderr: result.stderr } });
  }
  await runChecked(runner, sh`rm -rf ${downloads} && mv ${partial} ${downloads}`);
}
