import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LabConfig } from '../config/types.js';
import type { CommandRunner } from '../runner.js';
import { GuestImageBuilder } from '../virtual-lab/GuestImageBuilder.js';
import { projectRoot } from '../projectRoot.js';
import type { LabLog } from '../virtual-lab/VirtualLabError.js';
import { NestedLabError } from './NestedLabError.js';

/** Programs for the L2 guest beyond the virtual lab's: compiled statically into its /bin. */
export function l2ProgramsDir(): string {
  return join(projectRoot(), 'nested', 'l2-programs');
}

/**
 * The L2 guest's sources: the virtual lab's guest/ (init.sh, udp-echo) plus every *.c of
 * nested/l2-programs, assembled in one folder for the virtual lab's image builder. Rewritten only
 * when a file differs, so the builder's source hash (and the cache) holds while nothing changed.
 */
export function assembleL2Sources(targetDir: string, guestDir = join(projectRoot(), 'guest'), programsDir = l2ProgramsDir()): string {
  const wanted = new Map<string, string>();
  for (const name of readdirSync(guestDir)) wanted.set(name, join(guestDir, name));
  if (existsSync(programsDir)) {
    for (const name of readdirSync(programsDir).filter((n) => n.endsWith('.c'))) {
      if (wanted.has(name)) throw new NestedLabError('NESTED_L2_SOURCE_CLASH', `nested/l2-programs/${name} has the name of a guest/ file; rename it`);
      wanted.set(name, join(programsDir, name));
    }
  }
  mkdirSync(targetDir, { recursive: true });
  for (const name of readdirSync(targetDir)) if (!wanted.has(name)) rmSync(join(targetDir, name), { recursive: true, force: true });
  for (const [name, source] of wanted) {
    const target = join(targetDir, name);
    if (existsSync(target) && readFileSync(target).equals(readFileSync(source))) continue;
    cpSync(source, target, { recursive: true });
  }
  return targetDir;
}

/**
 * One builder per kernel+initrd guest of the lab file. The L2 kernel is Debian's generic flavour
 * (igbvf, e1000e, vfio and intel-iommu as modules), built by the virtual lab's GuestImageBuilder.
 * The image stays on the controller, where the lab file points: the harness copies guests to a
 * host's workDir as it would for a real host, so a changed guest program never rebuilds L1.
 */
export function l2ImageBuilders(config: LabConfig, buildDir: string, sourceDir: string, runner: CommandRunner, log: LabLog): GuestImageBuilder[] {
  const byInitrd = new Map<string, { kernel: string; initrd: string }>();
  for (const guest of Object.values(config.guests)) {
    if (guest.kernel !== undefined && guest.initrd !== undefined) byInitrd.set(guest.initrd, { kernel: guest.kernel, initrd: guest.initrd });
  }
  return [...byInitrd.values()].map(
    (guest) => new GuestImageBuilder({ flavour: 'generic', kernelPath: guest.kernel, initrdPath: guest.initrd, workDir: buildDir, sourceDir }, runner, log),
  );
}
