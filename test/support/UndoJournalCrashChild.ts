import { readEnvironment } from '../../harness/config/environment.js';
import { loadLab } from '../../harness/config/loadLab.js';
import { sh } from '../../harness/shell.js';
import { HostConnections } from '../../harness/host/HostConnections.js';
import { DeviceProvisioner } from '../../harness/host/provisioning/DeviceProvisioner.js';
import { UndoJournal } from '../../harness/host/UndoJournal.js';

/**
 * A controller to kill: tests spawn this as a separate node process, let it journal changes on a
 * lab host, SIGKILL it mid-sequence, and check that a replay from another process leaves nothing.
 * It prints `changed <n>` after each change and `ready` when it is waiting to be killed.
 *
 *   node UndoJournalCrashChild.js '<json CrashPlan>'
 */
export type CrashPlan =
  | { readonly mode: 'markers'; readonly labFile: string; readonly host: string; readonly workDir: string; readonly runId: string; readonly markerDir: string; readonly changes: number }
  | { readonly mode: 'provision'; readonly labFile: string; readonly host: string; readonly workDir: string; readonly runId: string; readonly pf: string; readonly numVfs: number; readonly vfIndex: number; readonly driver: string };

async function main(plan: CrashPlan): Promise<void> {
  const lab = loadLab(plan.labFile);
  const host = lab.hosts[plan.host];
  if (host === undefined) throw new Error(`no host ${plan.host} in ${plan.labFile}`);
  const transport = await new HostConnections(lab, readEnvironment()).open(host);
  const journal = new UndoJournal(transport, { workDir: plan.workDir, runId: plan.runId });
  if (plan.mode === 'markers') {
    for (let n = 1; n <= plan.changes; n += 1) {
      const marker = `${plan.markerDir}/marker-${n}`;
      await journal.change(`create ${marker}`, sh`mkdir -p ${marker} && touch ${`${marker}/file`}`, sh`rm -rf -- ${marker}`);
      process.stdout.write(`changed ${n}\n`);
    }
    // Killed between journaling a change and making it: its undo must be harmless on its own.
    await journal.append(`create ${plan.markerDir}/never-made`, sh`rm -rf -- ${`${plan.markerDir}/never-made`}`);
  } else {
    const provisioner = await DeviceProvisioner.open(transport, journal, host);
    const vfs = await provisioner.createVfs(plan.pf, plan.numVfs);
    process.stdout.write('changed 1\n');
    const vf = vfs[plan.vfIndex];
    if (vf === undefined) throw new Error(`PF ${plan.pf} has no VF ${plan.vfIndex} after creating ${plan.numVfs}`);
    await provisioner.bind(vf, plan.driver);
    process.stdout.write('changed 2\n');
  }
  process.stdout.write('ready\n');
  // Stay alive (and connected) until the test kills this process.
  setInterval(() => undefined, 60_000);
}

main(JSON.parse(process.argv[2] ?? '{}') as CrashPlan).catch((error: unknown) => {
  process.stderr.write(`crash child failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
