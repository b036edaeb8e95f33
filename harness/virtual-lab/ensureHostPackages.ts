import { errorMessage } from '../errors.js';
import { runChecked } from '../LocalRunner.js';
import type { CommandRunner } from '../runner.js';
import { sh } from '../shell.js';
import { planBackportsSource, type AptSourceFile } from './backportsSource.js';
import { VirtualLabError, type LabLog } from './VirtualLabError.js';

/** Debian packages the virtual lab needs on the controller, and what each one is for. */
export const HOST_PACKAGES: Readonly<Record<string, string>> = {
  'qemu-system-x86': 'QEMU for the guests (10.0 from bookworm-backports)',
  'openssh-server': 'an sshd per virtual host',
  'openssh-client': 'ssh-keygen for the lab keys',
  'busybox-static': 'the guest initramfs',
  socat: 'socket plumbing on the hosts',
  cpio: 'packing the initramfs',
  iproute2: 'namespaces, bridges, veths, taps',
  kmod: 'depmod for the guest kernel modules',
  gcc: 'building the guest UDP echo',
  'libc6-dev': 'static libc for the guest UDP echo',
  'xz-utils': 'unpacking .deb data and .ko.xz modules',
  zstd: 'unpacking .ko.zst modules',
};

const QEMU_PACKAGE = 'qemu-system-x86';
const APT_TIMEOUT_MS = 15 * 60_000;
const APT = ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];

export interface HostPackagesResult {
  /** Packages that were missing when the check ran (empty on the fast path). */
  readonly missing: readonly string[];
  /** Where QEMU came from, when it had to be installed. */
  readonly qemuFrom?: 'backports' | 'release';
  readonly durationMs: number;
}

export interface EnsureHostPackagesOptions {
  /** Whether the caller may run apt-get; defaults to "this process runs as root". */
  readonly isRoot?: boolean;
}

export async function missingHostPackages(runner: CommandRunner): Promise<string[]> {
  const names = Object.keys(HOST_PACKAGES);
  // Exits 1 when some package is unknown to dpkg: the output still lists the known ones.
  const result = await runner.run(sh`dpkg-query -W -f='\${Package}\t\${db:Status-Abbrev}\n' ${names}`);
  if (result.exitCode === 127) {
    throw new VirtualLabError('LAB_NOT_DEBIAN', `dpkg-query is missing on the ${runner.where}: the virtual lab installs its tools from Debian packages and needs a Debian 12 controller`);
  }
  const installed = new Set(
    result.stdout.split('\n').map((l) => l.split('\t')).filter(([, status]) => status?.startsWith('ii')).map(([name]) => name),
  );
  return names.filter((n) => !installed.has(n));
}

async function readAptSources(runner: CommandRunner): Promise<AptSourceFile[]> {
  const listing = await runChecked(
    runner,
    'for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && printf "\\036%s\\n" "$f" && cat "$f"; done; true',
  );
  return listing.stdout.split('\x1e').filter((chunk) => chunk !== '').map((chunk) => {
    const newline = chunk.indexOf('\n');
    return { path: chunk.slice(0, newline), text: chunk.slice(newline + 1) };
  });
}

/**
 * Makes sure every package in HOST_PACKAGES is installed. With everything present it costs one
 * dpkg-query; as root it installs what is missing; otherwise it fails with the commands to run.
 */
export async function ensureHostPackages(runner: CommandRunner, log: LabLog, options: EnsureHostPackagesOptions = {}): Promise<HostPackagesResult> {
  const startedAt = Date.now();
  const missing = await missingHostPackages(runner);
  if (missing.length === 0) return { missing, durationMs: Date.now() - startedAt };

  const codename = (await runChecked(runner, '. /etc/os-release && printf %s "$VERSION_CODENAME"')).stdout.trim();
  const needsQemu = missing.includes(QEMU_PACKAGE);
  // Only bookworm needs backports for QEMU >= 10; later releases ship it themselves.
  const useBackports = needsQemu && codename === 'bookworm';
  const plan = useBackports ? planBackportsSource(await readAptSources(runner), codename) : undefined;
  const others = missing.filter((p) => p !== QEMU_PACKAGE || !useBackports);

  const steps: string[] = [];
  if (plan !== undefined && !plan.isPresent) steps.push(sh`printf %s ${plan.content} > ${plan.file}`);
  steps.push(sh`${APT} update`);
  const backportsInstall = plan === undefined ? undefined : sh`${APT} install -y --no-install-recommends -t ${plan.suite} ${QEMU_PACKAGE}`;
  if (backportsInstall !== undefined) steps.push(backportsInstall);
  if (others.length > 0) steps.push(sh`${APT} install -y --no-install-recommends ${others}`);

  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) {
    throw new VirtualLabError(
      'LAB_PACKAGES_MISSING',
      `The virtual lab needs packages that are not installed: ${missing.join(', ')}. Run as root:\n${steps.map((s) => `  ${s}`).join('\n')}\nthen run \`hil lab up\` again.`,
      { data: { missing, commands: steps } },
    );
  }

  log(`installing ${missing.join(', ')} (apt-get; this takes a minute or two once)`);
  let qemuFrom: 'backports' | 'release' | undefined = needsQemu && !useBackports ? 'release' : undefined;
  for (const step of steps) {
    if (step === backportsInstall) {
      try {
        await runChecked(runner, step, { timeoutMs: APT_TIMEOUT_MS });
        qemuFrom = 'backports';
      } catch (error) {
        log(
          `WARNING: QEMU from ${plan?.suite} could not be installed (${errorMessage(error).split('\n').slice(-3).join(' ')}); ` +
            `falling back to ${codename}'s QEMU 7.2, which lacks the IOMMUFD syntax, VFIO migration events and exit-on-error`,
        );
        await runChecked(runner, sh`${APT} install -y --no-install-recommends ${QEMU_PACKAGE}`, { timeoutMs: APT_TIMEOUT_MS });
        qemuFrom = 'release';
      }
    } else {
      await runChecked(runner, step, { timeoutMs: APT_TIMEOUT_MS });
    }
  }
  const stillMissing = await missingHostPackages(runner);
  if (stillMissing.length > 0) {
    throw new VirtualLabError('LAB_PACKAGES_MISSING', `apt-get ran but ${stillMissing.join(', ')} is still not installed on the ${runner.where}; see apt's output above`, { data: { missing: stillMissing } });
  }
  return { missing, ...(qemuFrom === undefined ? {} : { qemuFrom }), durationMs: Date.now() - startedAt };
}
