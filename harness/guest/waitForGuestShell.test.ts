import { expect } from 'chai';
import { HarnessError } from '../errors.js';
import { rejectionOf } from '../rejectionOf.js';
import { waitForGuestShell } from './waitForGuestShell.js';

/** A console whose run() answers from a script, recording what was typed and asked. */
function scriptedConsole(answers: readonly (string | Error)[]) {
  const log: string[] = [];
  let next = 0;
  return {
    log,
    where: 'guest console of t',
    write: (text: string) => { log.push(`write ${JSON.stringify(text)}`); },
    run: async (command: string) => {
      log.push(`run ${command}`);
      const answer = answers[Math.min(next++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return { exitCode: 0, signal: null, stdout: answer, stderr: '', durationMs: 1 };
    },
  };
}

describe('waitForGuestShell', () => {
  it('types Ctrl-C before every try but the first, and stops when the shell answers', async () => {
    const console = scriptedConsole([new HarnessError('CONSOLE_TIMEOUT', 'no marker'), '> garbled', 'hil-shell-ok\n']);
    await waitForGuestShell(console, 5000);
    expect(console.log).to.deep.equal(['run echo hil-shell-ok', 'write "\\u0003"', 'run echo hil-shell-ok', 'write "\\u0003"', 'run echo hil-shell-ok']);
  });

  it('ends at once when the console\'s attach command has exited', async () => {
    const console = scriptedConsole([new HarnessError('CONSOLE_CLOSED', 'the attach command exited (code 0)')]);
    const error = await rejectionOf(waitForGuestShell(console, 60_000));
    expect(error.message).to.include('the attach command exited');
    expect(console.log).to.deep.equal(['run echo hil-shell-ok']);
  });

  it('ends with the caller\'s error when it says to abandon (a guest that reset itself)', async () => {
    const console = scriptedConsole([new HarnessError('CONSOLE_TIMEOUT', 'no marker')]);
    let checks = 0;
    const error = await rejectionOf(waitForGuestShell(console, 60_000, { whyAbandon: () => (++checks >= 3 ? new Error('the guest reset itself 1 time(s)') : null) }));
    expect(error.message).to.equal('the guest reset itself 1 time(s)');
    expect(console.log.filter((l) => l.startsWith('run'))).to.have.length(2);
  });

  it('ends with the caller\'s timeout error when the shell never answers', async () => {
    const console = scriptedConsole([new HarnessError('CONSOLE_TIMEOUT', 'no marker')]);
    const error = await rejectionOf(waitForGuestShell(console, 50, { onTimeout: (what, ms) => new HarnessError('GUEST_NOT_READY', `${what}: nothing in ${ms} ms`) }));
    expect([error.code, error.message]).to.deep.equal(['GUEST_NOT_READY', 'the guest shell over guest console of t: nothing in 50 ms']);
  });
});
