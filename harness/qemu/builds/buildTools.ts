import { runChecked } from '../../LocalRunner.js';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import { QemuBuildError } from '../../config/QemuBuildError.js';

/** Debian packages a QEMU build needs on the build machine, and what each is for. */
export const BUILD_PACKAGES: Readonly<Record<string, string>> = {
  gcc: 'the compiler',
  'libc6-dev': 'the C library headers',
  'ninja-build': 'the build itself',
  'pkg-config': "meson's library lookups",
  'python3-venv': "configure's Python venv",
  'libglib2.0-dev': 'GLib (QEMU links it)',
  'libpixman-1-dev': 'pixman (the display code links it)',
  'zlib1g-dev': 'zlib (migration compression)',
  git: 'git apply',
  patch: 'patches applied with fuzz',
  'dpkg-dev': 'dpkg-source for Debian source packages',
  'binutils': 'strip for the installed binary',
};

/**
 * The two QEMU needs newer than Debian 12 ships: meson >= 1.5 (the +ds source has no python/wheels
 * to bring its own) and pycotap, which configure's venv insists on; both are in bookworm-backports.
 */
const BACKPORTED = ['meson', 'python3-pycotap'] as const;
const MESON_MIN = [1, 5];
const APT_TIMEOUT_MS = 15 * 60_000;

function isMesonNewEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.trim().split('.').map(Number);
  return major > MESON_MIN[0]! || (major === MESON_MIN[0]! && minor >= MESON_MIN[1]!);
}

/**
 * Installs what a QEMU build needs on the build machine (the controller or a host) with apt-get;
 * with everything there it costs two commands. A machine without apt is told what to install.
 */
export async function ensureBuildTools(runner: CommandRunner, log: (line: string) => void): Promise<void> {
  const names = Object.keys(BUILD_PACKAGES);
  const query = await runner.run(sh`dpkg-query -W -f='\${Package}\t\${db:Status-Abbrev}\n' ${names}; meson --version 2>/dev/null; /usr/bin/python3 -c 'import pycotap' 2>/dev/null && echo pycotap-ok; . /etc/os-release && echo "codename=$VERSION_CODENAME"`);
  const lines = query.stdout.split('\n');
  const installed = new Set(lines.map((l) => l.split('\t')).filter(([, s]) => s?.startsWith('ii')).map(([n]) => n));
  const missing = names.filter((n) => !installed.has(n));
  const mesonVersion = lines.find((l) => /^\d+\.\d+/.test(l)) ?? null;
  const needsBackported = mesonVersion === null || !isMesonNewEnough(mesonVersion) || !lines.includes('pycotap-ok');
  const codename = lines.find((l) => l.startsWith('codename='))?.slice('codename='.length) ?? '';
  if (missing.length === 0 && !needsBackported) return;
  const apt = ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends'];
  const steps: string[] = [];
  if (missing.length > 0) steps.push(sh`${apt} ${missing}`);
  // Debian 13 and later ship meson >= 1.5 themselves; Debian 12 has it in backports only.
  if (needsBackported) steps.push(codename === 'bookworm' ? sh`${apt} -t bookworm-backports ${[...BACKPORTED]}` : sh`${apt} ${[...BACKPORTED]}`);
  const hasApt = (await runner.run('command -v apt-get')).exitCode === 0;
  if (!hasApt) {
    throw new QemuBuildError('QEMU_BUILD_TOOLS_MISSING', `The QEMU build needs tools that ${runner.where} lacks (${[...missing, ...(needsBackported ? ['meson >= 1.5', 'pycotap'] : [])].join(', ')}) and it has no apt-get: install them and build again`, { data: { missing } });
  }
  log(`installing the QEMU build tools on ${runner.where}: ${[...missing, ...(needsBackported ? BACKPORTED : [])].join(', ')}`);
  for (const step of steps) {
    try {
      await runChecked(runner, step, { timeoutMs: APT_TIMEOUT_MS });
    } catch (error) {
      throw new QemuBuildError('QEMU_BUILD_TOOLS_MISSING', `Could not install the QEMU build tools on ${runner.where} (${step}); on Debian 12 meson >= 1.5 comes from bookworm-backports, which must be among apt's sources`, { cause: error });
    }
  }
}
