/**
 * Ctrl-C during `hil run` on the virtual lab: one SIGINT tears down and writes a partial report;
 * two SIGINTs exit at once and leave the host journals, which the next run replays first.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLab } from '../harness/config/loadLab.js';
import { projectRoot } from '../harness/projectRoot.js';
import { becomesTrue } from '../harness/waitFor.js';

const root = projectRoot();
const lab = loadLab(join(root, 'lab.yaml'));

function startRun(): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/hil.js', 'run', 'suites/migration/ping-pong.spec.ts', '--wait', '600'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => { text += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { text += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** QEMU processes of this lab's VMs still alive (their command lines name the lab's workDirs). */
function qemuOfLab(): string[] {
  const workDirs = Object.values(lab.hosts).map((h) => h.workDir);
  return readdirSync('/proc').filter((pid) => /^\d+$/.test(pid)).filter((pid) => {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch (error) {
      // A process that ended between readdir and read is simply not there.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw error;
    }
    return cmdline.includes('guest=hil-') && workDirs.some((dir) => cmdline.includes(dir));
  });
}

async function untilMigrating(run: ReturnType<typeof startRun>): Promise<string> {
  const isMigrating = await becomesTrue(() => /m2 host-b→host-a/.test(run.output()), { timeoutMs: 600_000, intervalMs: 100 });
  expect(isMigrating, run.output()).to.equal(true);
  return /Run (\S+) on lab/.exec(run.output())![1]!;
}

describe('hil run interrupted with Ctrl-C', function () {
  this.timeout(900_000);

  it('one SIGINT: tears down, leaves nothing on the hosts, writes a partial report marked incomplete', async () => {
    const run = startRun();
    const runId = await untilMigrating(run);
    run.child.kill('SIGINT');
    const code = await run.exited;
    expect(code, run.output()).to.equal(2);
    expect(run.output()).to.contain('Interrupted: ending the current test');
    const results = JSON.parse(readFileSync(join(lab.reportsDir, runId, 'results.json'), 'utf8')) as { isComplete: boolean; tests: { outcome: string }[] };
    expect(results.isComplete).to.equal(false);
    expect(results.tests.map((t) => t.outcome)).to.not.include('FAIL');
    expect(qemuOfLab()).to.deep.equal([]);
    for (const host of Object.values(lab.hosts)) {
      expect(existsSync(join(host.workDir, 'journal')), `journal on ${host.name}`).to.equal(false);
      expect(existsSync(join(host.workDir, 'lease')), `lease on ${host.name}`).to.equal(false);
    }
  });

  it('two SIGINTs: exits at once leaving the journal, and the next run replays it before anything else', async () => {
    const run = startRun();
    await untilMigrating(run);
    run.child.kill('SIGINT');
    // Two signals sent together merge into one pending signal: send the second once the first is seen.
    expect(await becomesTrue(() => run.output().includes('Interrupted:'), { timeoutMs: 10_000, intervalMs: 20 })).to.equal(true);
    run.child.kill('SIGINT');
    expect(await run.exited, run.output()).to.equal(130);
    // Whatever it left (QEMU, journal entries) is the next run's to clean up first.
    const next = startRun();
    const replayed = await becomesTrue(() => /m1 host-a→host-b/.test(next.output()), { timeoutMs: 600_000, intervalMs: 100 });
    expect(replayed, next.output()).to.equal(true);
    next.child.kill('SIGINT');
    expect(await next.exited, next.output()).to.equal(2);
    expect(qemuOfLab()).to.deep.equal([]);
    for (const host of Object.values(lab.hosts)) expect(existsSync(join(host.workDir, 'journal')), `journal on ${host.name}`).to.equal(false);
  });
});
