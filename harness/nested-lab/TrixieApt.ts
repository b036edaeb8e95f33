import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { parseAptSources, type AptSourceFile } from '../virtual-lab/backportsSource.js';
import type { LabLog } from '../virtual-lab/VirtualLabError.js';
import { NestedLabError } from './NestedLabError.js';

export const TRIXIE = 'trixie';
export const TRIXIE_BACKPORTS = 'trixie-backports';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
/** Package lists younger than this are reused: a cached image build then costs no network at all. */
const LISTS_MAX_AGE_MS = 6 * 3600_000;
const APT_TIMEOUT_MS = 10 * 60_000;

/** Version of each package per suite ("trixie" / "trixie-backports"), as apt-cache madison lists them. */
export type SuiteVersions = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** The mirror the controller's own bookworm source uses (design: the lab talks to no other host). */
export function controllerMirror(files: readonly AptSourceFile[]): string {
  const entry = files.flatMap(parseAptSources).find((e) => e.suites.includes('bookworm') && e.uris.length > 0);
  return (entry?.uris[0] ?? DEFAULT_MIRROR).replace(/\/+$/, '');
}

export function readControllerAptSources(): AptSourceFile[] {
  const files: AptSourceFile[] = [];
  const add = (path: string): void => {
    if (existsSync(path)) files.push({ path, text: readFileSync(path, 'utf8') });
  };
  add('/etc/apt/sources.list');
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const name of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(name)) add(join(dir, name));
  return files;
}

/** "pkg | 1:10.0.13+ds-0+deb13u1 | http://mirror/debian trixie/main amd64 Packages" lines → versions by suite. */
export function parseMadison(text: string): SuiteVersions {
  const bySuite: Record<string, Record<string, string>> = {};
  for (const line of text.split('\n')) {
    const [name, version, origin] = line.split('|').map((f) => f.trim());
    const suite = origin?.split(/\s+/)[1]?.split('/')[0];
    if (name === undefined || version === undefined || suite === undefined || !origin?.endsWith('Packages')) continue;
    const versions = (bySuite[suite] ??= {});
    // madison lists the newest first; keep it.
    versions[name] ??= version;
  }
  return bySuite;
}

/**
 * A private apt state for Debian trixie and trixie-backports on the controller's mirror (chdist
 * style): the L1 image's package versions are read and its extra .debs downloaded without ever
 * adding trixie to the bookworm controller's own sources, where an upgrade could pull it in.
 */
export class TrixieApt {
  readonly sourcesFile: string;

  constructor(
    private readonly dir: string,
    readonly mirror: string,
    private readonly runner: CommandRunner,
    private readonly log: LabLog,
  ) {
    this.sourcesFile = join(dir, 'sources.list');
  }

  /** apt options that point every apt tool at this state only. */
  get options(): string[] {
    const o = (key: string, value: string): string[] => ['-o', `${key}=${value}`];
    return [
      ...o('Dir::Etc::SourceList', this.sourcesFile), ...o('Dir::Etc::SourceParts', '/dev/null'),
      ...o('Dir::Etc::Preferences', '/dev/null'), ...o('Dir::Etc::PreferencesParts', '/dev/null'),
      ...o('Dir::State::Lists', join(this.dir, 'lists')), ...o('Dir::State::status', join(this.dir, 'status')),
      ...o('Dir::Cache', join(this.dir, 'cache')), ...o('APT::Architecture', 'amd64'),
      // Our own folders: no lock shared with the controller's apt.
      ...o('Debug::NoLocking', '1'),
    ];
  }

  /** The deb lines, also handed to mmdebstrap so the image comes from exactly these suites. */
  get sourceLines(): string[] {
    return [TRIXIE, TRIXIE_BACKPORTS].map((suite) => `deb [signed-by=${KEYRING}] ${this.mirror} ${suite} main`);
  }

  /** Writes the sources and runs apt-get update when they changed or the lists are stale; returns whether it updated. */
  async refresh(options: { force?: boolean } = {}): Promise<boolean> {
    for (const sub of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(this.dir, sub), { recursive: true });
    if (!existsSync(join(this.dir, 'status'))) writeFileSync(join(this.dir, 'status'), '');
    const sources = `${this.sourceLines.join('\n')}\n`;
    const isSame = existsSync(this.sourcesFile) && readFileSync(this.sourcesFile, 'utf8') === sources;
    const stamp = join(this.dir, 'updated-at');
    const isFresh = isSame && existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < LISTS_MAX_AGE_MS;
    if (isFresh && options.force !== true) return false;
    writeFileSync(this.sourcesFile, sources);
    this.log(`apt-get update for ${TRIXIE} and ${TRIXIE_BACKPORTS} from ${this.mirror} (private lists in ${this.dir})`);
    await runChecked(this.runner, sh`apt-get ${this.options} -q update`, { timeoutMs: APT_TIMEOUT_MS });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
    return true;
  }

  async versions(packages: readonly string[]): Promise<SuiteVersions> {
    const result = await runChecked(this.runner, sh`apt-cache ${this.options} madison ${packages}`, { timeoutMs: 60_000 });
    return parseMadison(result.stdout);
  }

  /** `apt-cache show pkg=version` as text (for Depends lines). */
  async show(pkg: string, version: string): Promise<string> {
    return (await runChecked(this.runner, sh`apt-cache ${this.options} show ${`${pkg}=${version}`}`)).stdout;
  }

  /** Downloads pkg=version .debs into `dir` unless already there; returns their paths. */
  async download(pins: Readonly<Record<string, string>>, dir: string): Promise<string[]> {
    mkdirSync(dir, { recursive: true });
    // apt-get download names files <package>_<version with ':' as %3a>_<arch>.deb.
    const find = (pkg: string, version: string): string | undefined =>
      readdirSync(dir).find((f) => f.startsWith(`${pkg}_${version.replace(/:/g, '%3a')}_`) && f.endsWith('.deb'));
    const missing = Object.entries(pins).filter(([pkg, version]) => find(pkg, version) === undefined);
    if (missing.length > 0) {
      await runChecked(this.runner, sh`cd ${dir} && apt-get ${this.options} -q download ${missing.map(([p, v]) => `${p}=${v}`)}`, { timeoutMs: APT_TIMEOUT_MS });
    }
    return Object.entries(pins).map(([pkg, version]) => {
      const file = find(pkg, version);
      if (file === undefined) throw new NestedLabError('NESTED_DOWNLOAD_FAILED', `apt-get download ${pkg}=${version} left no .deb in ${dir}`);
      return join(dir, file);
    });
  }
}
