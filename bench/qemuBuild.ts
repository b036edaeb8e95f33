/**
 * Times QEMU source builds of a lab file: cold (an empty cache of its own: base fetched and
 * unpacked, configure, the whole compile), cached (inputs unchanged: nothing built), and
 * incremental (the second build, one more patch, made from the first one's tree). Prints figures.
 *
 *   node dist/bench/qemuBuild.js [--lab labs/nested.yaml] [--no-cold] [FIRST SECOND]
 *
 * FIRST and SECOND default to qemu-series-nofix and qemu-series. With --no-cold the lab's own
 * cache is used: FIRST must be built there (hil qemu build) and SECOND's entry is removed first,
 * so that the incremental build is timed. The cold run takes a quarter of an hour or more on two
 * cores and leaves its cache in /var/tmp/vfio-hil-bench-qemu (deleted at the start of the next).
 */
import { rmSync } from 'node:fs';
import { loadLab } from '../harness/config/loadLab.js';
import type { LabConfig } from '../harness/config/types.js';
import { readEnvironment } from '../harness/config/environment.js';
import { planQemuBuild } from '../harness/config/buildPlan.js';
import { ensureQemuBuilds, sourceBuildsNamed } from '../harness/qemu/builds/ensureQemuBuilds.js';
import { entryDirOf, type BuildProgress } from '../harness/qemu/builds/QemuBuilder.js';

const COLD_CACHE = '/var/tmp/vfio-hil-bench-qemu';

function quietProgress(): BuildProgress {
  const log = (line: string): void => console.error(`  | ${new Date().toISOString().slice(11, 19)} ${line}`);
  return { step: (step, detail) => log(`${step}: ${detail}`), objects: () => undefined, log };
}

async function timedBuild(lab: LabConfig, name: string): Promise<{ seconds: number; how: string }> {
  const [built] = await ensureQemuBuilds(lab, sourceBuildsNamed(lab, [name]), readEnvironment(), () => quietProgress());
  if (built === undefined) throw new Error(`${name} gave no build`);
  return { seconds: built.result.durationMs / 1000, how: built.result.how };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const labIndex = args.indexOf('--lab');
  const labFile = labIndex >= 0 ? args[labIndex + 1]! : 'labs/nested.yaml';
  const names = args.filter((a, i) => !a.startsWith('--') && (labIndex < 0 || i !== labIndex + 1));
  const [first = 'qemu-series-nofix', second = 'qemu-series'] = names;
  const lab = loadLab(labFile);
  const rows: [string, { seconds: number; how: string }][] = [];

  const runOn = async (cacheDir: string, isCold: boolean): Promise<void> => {
    const on: LabConfig = { ...lab, cacheDir };
    const label = isCold ? 'cold cache' : 'lab cache';
    if (isCold) rows.push([`${first}, ${label}`, await timedBuild(on, first)]);
    rows.push([`${first} again, ${label} (inputs unchanged)`, await timedBuild(on, first)]);
    rmSync(entryDirOf(cacheDir, planQemuBuild(on.qemu[second]!).identity.inputsHash), { recursive: true, force: true });
    rows.push([`${second}, ${label} (from ${first}'s tree)`, await timedBuild(on, second)]);
    rows.push([`${second} again, ${label}`, await timedBuild(on, second)]);
  };
  if (!args.includes('--no-cold')) {
    rmSync(COLD_CACHE, { recursive: true, force: true });
    await runOn(COLD_CACHE, true);
  }
  await runOn(lab.cacheDir, false);

  console.log(`QEMU source builds of ${lab.file} (${first}, then ${second}):`);
  for (const [what, { seconds, how }] of rows) console.log(`  ${what.padEnd(64)} ${seconds.toFixed(1).padStart(8)} s  ${how}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
