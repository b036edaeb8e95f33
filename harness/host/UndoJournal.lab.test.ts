import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main.js';
import { runChecked } from '../LocalRunner.js';
import { sh } from '../shell.js';
import type { SshTransport } from '../ssh/SshTransport.js';
import { LabHosts } from '../../test/support/labHosts.js';
import type { CrashPlan } from '../../test/support/UndoJournalCrashChild.js';
import { UndoJournal } from './UndoJournal.js';
import { UndoJournalReplayError } from './UndoJournalError.js';
import { preflightLab } from './preflightLab.js';
import { replayHostJournal } from './UndoJournalRecovery.js';

const CHILD = fileURLToPath(new URL('../../test/support/UndoJournalCrashChild.js', import.meta.url));

/** Resolves with the child's stdout once it printed `line`; rejects if it exits first or the deadline passes. */
function waitForLine(child: ChildProcess, line: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`child did not print "${line}" within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.split('\n').includes(line)) { clearTimeout(timer); resolve(out); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`child exited ${code} before "${line}"; stdout: ${out}; stderr: ${err}`)); });
  });
}

describe('UndoJournal on a virtual-lab host over SSH', function () {
  const HOST = 'host-a';
  let hosts: LabHosts;
  let transport: SshTransport;

  const exists = async (path: string): Promise<boolean> => (await transport.run(sh`test -e ${path}`)).exitCode === 0;
  const mode = async (path: string): Promise<string> => (await runChecked(transport, sh`stat -c %a ${path}`)).stdout.trim();

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    hosts = await LabHosts.open();
    transport = await hosts.transport(HOST);
  });

  after(async () => {
    await hosts?.close();
  });

  it('appends each undo before its change, in a 0700 folder and a 0600 file, and replays newest first', async () => {
    const scratch = await hosts.scratchDir(HOST, 'journal-order');
    const journal = new UndoJournal(transport, { workDir: posix.join(scratch, 'work'), runId: 'order' });
    const order = posix.join(scratch, 'order');
    for (const n of [1, 2, 3]) {
      // The change checks that its own undo is already on the host when it runs.
      await journal.change(`step ${n}`, sh`grep -q ${`step ${n}`} ${journal.file} && mkdir ${posix.join(scratch, `m${n}`)}`, sh`rmdir ${posix.join(scratch, `m${n}`)} && echo ${n} >> ${order}`);
    }
    expect([await mode(journal.dir), await mode(journal.file)]).to.deep.equal(['700', '600']);
    const replay = await journal.replay();
    expect(replay.undone.map((e) => e.description)).to.deep.equal(['step 3', 'step 2', 'step 1']);
    expect((await runChecked(transport, sh`cat ${order}`)).stdout).to.equal('3\n2\n1\n');
    expect(await exists(journal.dir)).to.equal(false);
  });

  it('reports every failed undo, undoes the rest, and keeps only the failed entries', async () => {
    const scratch = await hosts.scratchDir(HOST, 'journal-fail');
    const journal = new UndoJournal(transport, { workDir: posix.join(scratch, 'work'), runId: 'fail' });
    for (const n of [1, 2, 3, 4]) await journal.change(`make m${n}`, sh`mkdir ${posix.join(scratch, `m${n}`)}`, sh`rmdir ${posix.join(scratch, `m${n}`)}`);
    // Undos 2 and 4 will fail: their folders are no longer empty.
    await runChecked(transport, sh`touch ${posix.join(scratch, 'm2/busy')} ${posix.join(scratch, 'm4/busy')}`);
    const error = await journal.replay().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(UndoJournalReplayError);
    const replay = (error as UndoJournalReplayError).replay;
    expect(replay.undone.map((e) => e.description)).to.deep.equal(['make m3', 'make m1']);
    expect(replay.failed.map((f) => f.entry.description)).to.deep.equal(['make m4', 'make m2']);
    expect(replay.failed[0]!.error).to.match(/undo failed \(exit 1\): rmdir: .*m4.*not empty/i);
    expect((error as Error).message).to.include('left 2 problem(s) (2 change(s) undone)');
    expect([await exists(posix.join(scratch, 'm1')), await exists(posix.join(scratch, 'm3'))]).to.deep.equal([false, false]);
    expect((await journal.read()).entries.map((e) => e.description)).to.deep.equal(['make m2', 'make m4']);
  });

  it('survives the controller: a child SIGKILLed mid-sequence leaves a journal that a replay from here fully undoes', async () => {
    const scratch = await hosts.scratchDir(HOST, 'journal-crash');
    const markerDir = posix.join(scratch, 'markers');
    const workDir = posix.join(scratch, 'work');
    const plan: CrashPlan = { mode: 'markers', labFile: hosts.config.file, host: HOST, workDir, runId: 'doomed-run', markerDir, changes: 3 };
    const child = spawn(process.execPath, [CHILD, JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      await waitForLine(child, 'ready', 30_000);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).to.equal('SIGKILL');
    const markers = (await runChecked(transport, sh`ls ${markerDir}`)).stdout.split('\n').filter((l) => l !== '');
    expect(markers).to.deep.equal(['marker-1', 'marker-2', 'marker-3']);

    const outcome = await replayHostJournal({ name: HOST, workDir }, transport);
    expect(outcome.isClean).to.equal(true);
    expect(outcome.replay?.undone.map((e) => [e.runId, e.description])).to.deep.equal([
      ['doomed-run', `create ${markerDir}/never-made`],
      ['doomed-run', `create ${markerDir}/marker-3`],
      ['doomed-run', `create ${markerDir}/marker-2`],
      ['doomed-run', `create ${markerDir}/marker-1`],
    ]);
    expect((await runChecked(transport, sh`ls -A ${markerDir}`)).stdout).to.equal('');
    expect(await exists(posix.join(workDir, 'journal'))).to.equal(false);
  });

  it('preflight of a run replays a leftover journal before anything else and reports it as its first check', async () => {
    const scratch = await hosts.scratchDir(HOST, 'journal-preflight');
    const workDir = posix.join(scratch, 'work');
    const marker = posix.join(scratch, 'marker');
    await new UndoJournal(transport, { workDir, runId: 'dead-run' }).change('create the marker', sh`mkdir ${marker}`, sh`rm -rf -- ${marker}`);
    const host = { ...hosts.host(HOST), workDir };
    const lab = { ...hosts.config, hosts: { ...hosts.config.hosts, [HOST]: host } };
    const report = await preflightLab(lab, hosts.connections, [HOST], { replayLeftoverJournals: true });
    const checks = report.hosts[0]!.checks;
    expect(checks[0]).to.deep.equal({ name: 'journal', isOk: true, detail: 'undid 1 change(s) left by run(s) dead-run' });
    // The facts were read after the replay: nothing left.
    expect(report.hosts[0]!.facts?.hasLeftoverJournal).to.equal(false);
    expect(await exists(marker)).to.equal(false);
  });

  it('`hil host restore --host host-a` replays the host journal by hand and says what it undid', async () => {
    const scratch = await hosts.scratchDir(HOST, 'journal-cli');
    const workDir = posix.join(scratch, 'work');
    const marker = posix.join(scratch, 'marker');
    await new UndoJournal(transport, { workDir, runId: 'left-behind' }).change('create the marker', sh`mkdir ${marker}`, sh`rm -rf -- ${marker}`);
    const labFile = hosts.labFileWithWorkDir(HOST, workDir);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['node', 'hil', '--lab', labFile, 'host', 'restore', '--host', HOST], { out: (l) => out.push(l), err: (l) => err.push(l), setExitCode: () => undefined });
    expect(err).to.deep.equal([]);
    expect(code).to.equal(0);
    expect(out.join('\n')).to.match(/^host-a \(root@10\.231\.0\.11:22\): undid 1 change\(s\)\n {2}undone {3}create the marker {2}\(run left-behind, /);
    expect(await exists(marker)).to.equal(false);
    // The restore held host-a's lease while it worked, and gave it back.
    expect(await exists(posix.join(workDir, 'lease'))).to.equal(false);
    const again: string[] = [];
    await main(['node', 'hil', '--lab', labFile, 'host', 'restore', '--host', HOST], { out: (l) => again.push(l), err: (l) => again.push(l), setExitCode: () => undefined });
    expect(again).to.deep.equal(['host-a (root@10.231.0.11:22): nothing to undo']);
  });
});
