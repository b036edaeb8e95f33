import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRunner } from '../LocalRunner.js';
import { sh } from '../shell.js';
import { UndoJournal } from './UndoJournal.js';
import { formatJournalLine, parseJournalText } from './UndoJournalEntry.js';
import { UndoJournalError, UndoJournalReplayError } from './UndoJournalError.js';

// The journal's shell runs on the controller here (LocalRunner, a temp folder): the same
// commands the lab tests send over SSH, without needing the lab.
describe('UndoJournal (local shell, temp folder)', () => {
  let workDir: string;
  let journal: UndoJournal;
  const runner = new LocalRunner();

  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), 'hil-journal-'));
    journal = new UndoJournal(runner, { workDir, runId: 'run-1' });
  });
  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  it('keeps an entry line readable and round-trips tabs, newlines and % through the format', () => {
    const entry = { id: 'a-1', runId: 'r\t1', writtenAt: '2026-01-01T00:00:00.000Z', description: '50% of\nthat', undo: sh`rm -f ${"it's here"}` };
    const line = formatJournalLine(entry);
    expect(line).to.equal("hil-undo-1\ta-1\tr%091\t2026-01-01T00:00:00.000Z\t50%25 of%0Athat\trm -f 'it'\\''s here'");
    expect(parseJournalText(`${line}\n`)).to.deep.equal({ entries: [entry], unreadable: [] });
    expect(parseJournalText(`${line}\ngarbage\n\n`).unreadable).to.deep.equal([{ lineNumber: 2, text: 'garbage' }]);
  });

  it('appends before the change, replays newest first and removes the journal when empty', async () => {
    const order = join(workDir, 'order');
    for (const n of [1, 2, 3]) await journal.change(`step ${n}`, sh`mkdir ${join(workDir, `m${n}`)}`, sh`rmdir ${join(workDir, `m${n}`)} && echo ${n} >> ${order}`);
    expect((await journal.read()).entries.map((e) => e.description)).to.deep.equal(['step 1', 'step 2', 'step 3']);
    expect(statSync(journal.dir).mode & 0o777).to.equal(0o700);
    expect(statSync(journal.file).mode & 0o777).to.equal(0o600);

    const replay = await journal.replay();
    expect(replay.undone.map((e) => e.description)).to.deep.equal(['step 3', 'step 2', 'step 1']);
    expect(readFileSync(order, 'utf8')).to.equal('3\n2\n1\n');
    expect(existsSync(journal.dir)).to.equal(false);
  });

  it('keeps going after a failed undo, reports it and keeps only that entry', async () => {
    await journal.change('first', 'true', sh`touch ${join(workDir, 'first-undone')}`);
    await journal.change('broken', 'true', 'echo "cannot do that" >&2; exit 3');
    await journal.change('last', 'true', sh`touch ${join(workDir, 'last-undone')}`);
    const error = await journal.replay().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(UndoJournalReplayError);
    const replay = (error as UndoJournalReplayError).replay;
    expect(replay.undone.map((e) => e.description)).to.deep.equal(['last', 'first']);
    expect(replay.failed.map((f) => [f.entry.description, f.error])).to.deep.equal([['broken', 'undo failed (exit 3): cannot do that']]);
    expect((error as Error).message).to.include('broken').and.include('hil host restore');
    expect(existsSync(join(workDir, 'first-undone')) && existsSync(join(workDir, 'last-undone'))).to.equal(true);
    expect((await journal.read()).entries.map((e) => e.description)).to.deep.equal(['broken']);
  });

  it('undoes a change that failed halfway at once and says so', async () => {
    const marker = join(workDir, 'half');
    const error = await journal.change('half a change', sh`mkdir ${marker} && echo "then it broke" >&2 && exit 4`, sh`rm -rf ${marker}`).then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(UndoJournalError);
    expect((error as Error).message).to.include('"half a change" failed').and.include('then it broke').and.include('undone right away');
    expect(existsSync(marker)).to.equal(false);
    expect((await journal.read()).entries).to.deep.equal([]);
  });

  it('replays only one run\'s entries when asked, and never loses an append racing a removal', async () => {
    const other = new UndoJournal(runner, { workDir, runId: 'run-2' });
    await other.append('other run', 'true');
    const mine = await Promise.all([1, 2, 3, 4].map((n) => journal.append(`mine ${n}`, 'true')));
    await Promise.all([journal.remove(mine[0]!.id), journal.append('mine 5', 'true'), journal.remove(mine[1]!.id)]);
    expect((await journal.read()).entries.map((e) => e.description)).to.have.members(['other run', 'mine 3', 'mine 4', 'mine 5']);
    const replay = await journal.replay({ runId: 'run-1' });
    expect(replay.undone).to.have.length(3);
    expect((await journal.read()).entries.map((e) => e.description)).to.deep.equal(['other run']);
  });

  it('does not glue a new entry onto a line a crash left without its newline', async () => {
    await journal.append('whole', 'true');
    await runner.run(sh`printf '%s' 'hil-undo-1	torn' >> ${journal.file}`);
    await journal.append('after the tear', 'true');
    const { entries, unreadable } = await journal.read();
    expect(entries.map((e) => e.description)).to.deep.equal(['whole', 'after the tear']);
    expect(unreadable.map((u) => u.text)).to.deep.equal(['hil-undo-1\ttorn']);
  });
});
