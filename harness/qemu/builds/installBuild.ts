import { execFileSync } from 'node:child_process';
import { posix } from 'node:path';
import { runChecked } from '../../LocalRunner.js';
import type { CommandRunner } from '../../runner.js';
import { sh } from '../../shell.js';
import type { QemuBuildPlan } from '../../config/buildPlan.js';

/** Firmware folders of the host's own Debian packages: the build installs no blobs (--disable-install-blobs). */
export const FIRMWARE_DIRS = ['/usr/share/qemu', '/usr/share/seabios', '/usr/lib/ipxe/qemu'] as const;
const STAMP = '.vfio-hil-build';

/**
 * Installs a build under its prefix on a host, unless the host has it already (a stamp with the
 * inputs hash). `install` is the build's DESTDIR: on the controller for a controller build (copied
 * over), or on the host itself for a build made there. The data folder gets links to the host's firmware packages.
 */
export async function installBuild(runner: CommandRunner, plan: QemuBuildPlan, install: { readonly dir: string; readonly isOnController: boolean }, log: (line: string) => void): Promise<boolean> {
  const prefix = plan.spec.prefix;
  const stamp = posix.join(prefix, STAMP);
  const current = await runner.run(sh`cat ${stamp} 2>/dev/null`);
  if (current.stdout.trim() === plan.identity.inputsHash) return false;
  const extract = sh`rm -rf ${prefix} && mkdir -p ${prefix} && tar -xzf - -C /`;
  if (install.isOnController) {
    log(`copying qemu.${plan.name} to ${runner.where}`);
    // The prefix's own path, not ".": unpacking "./" at / would give / the mode of the staging folder.
    const archive = execFileSync('tar', ['-C', install.dir, '-czf', '-', prefix.replace(/^\/+/, '')], { maxBuffer: 1 << 30 });
    await runChecked(runner, extract, { stdin: archive, timeoutMs: 15 * 60_000 });
  } else {
    await runChecked(runner, sh`rm -rf ${prefix} && mkdir -p ${prefix} && tar -C ${install.dir} -cf - ${prefix.replace(/^\/+/, '')} | tar -xf - -C /`, { timeoutMs: 15 * 60_000 });
  }
  const data = posix.join(prefix, 'share', 'qemu');
  // The build installs no firmware: its data folder links to the host's packages' files.
  const link = sh`mkdir -p ${data} && for dir in ${[...FIRMWARE_DIRS]}; do [ -d "$dir" ] || continue; for f in "$dir"/*; do [ -e ${data}/"$(basename "$f")" ] || ln -s "$f" ${data}/; done; done`;
  await runChecked(runner, link);
  await runChecked(runner, sh`printf '%s\\n' ${plan.identity.inputsHash} > ${stamp}`);
  const version = await runChecked(runner, sh`${posix.join(prefix, 'bin', 'qemu-system-x86_64')} --version`);
  log(`${runner.where}: ${version.stdout.split('\n')[0]}`);
  return true;
}
