import type { Command } from 'commander';
import { readEnvironment } from '../config/environment.js';
import { ensureQemuBuilds, sourceBuildsNamed } from '../qemu/builds/ensureQemuBuilds.js';
import type { BuildProgress, BuildStep } from '../qemu/builds/QemuBuilder.js';
import { ExitCode } from './ExitCode.js';
import { loadLabOption, type CliIo } from './cliSupport.js';

export function addQemuCommands(program: Command, io: CliIo): void {
  const qemu = program.command('qemu').description('QEMU builds of the lab file');
  qemu
    .command('build')
    .description('build the source builds of the lab file\'s qemu: section (all, or those named); a build whose inputs did not change returns at once')
    .argument('[names...]', 'builds to make, in order (a build with one more patch is made incrementally from the one before)')
    .action(async (names: string[]) => {
      const lab = loadLabOption(program);
      const builds = sourceBuildsNamed(lab, names);
      if (builds.length === 0) {
        io.out(`${lab.file} has no source builds under qemu:`);
        return;
      }
      const built = await ensureQemuBuilds(lab, builds, readEnvironment(), (build, on) => buildProgress(io, build, on));
      for (const { plan, on, result } of built) {
        const from = result.from === undefined ? '' : ` from ${result.from.slice(0, 12)}`;
        io.out(`qemu.${plan.name} on ${on}: ${result.how}${from} in ${(result.durationMs / 1000).toFixed(1)} s — ${plan.identity.pkgVersion}`);
        io.out(`  ${result.entryDir} (log: ${result.logFile})`);
      }
      io.setExitCode(ExitCode.ok);
    });
}

/**
 * One line per step, and for the compile one line per tenth of the objects: readable in a CI log
 * as well as a terminal, where a redrawn line would leave nothing behind in the log.
 */
export function buildProgress(io: CliIo, build: string, on: string): BuildProgress {
  let lastTenth = -1;
  const label = `qemu.${build} (${on})`;
  return {
    step(step: BuildStep, detail: string): void {
      io.out(`${label}: ${step}: ${detail}`);
      lastTenth = -1;
    },
    objects(done: number, total: number): void {
      const tenth = Math.floor((done * 10) / Math.max(total, 1));
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      io.out(`${label}: compile: ${done}/${total} objects`);
    },
    log(line: string): void {
      io.err(`${label}: ${line}`);
    },
  };
}
