import { expect } from 'chai';
import { HarnessError } from '../errors.js';
import { rejectionOf } from '../../test/support/rejectionOf.js';
import { waitForGuestShell } from './waitForGuestShell.js';

/**
 * A console whose run() answers from a script, recording what was typed and asked; expect() (the
 * wait for the attach's raw-pty marker) fails with the given errors first, then finds it.
 */
function scriptedConsole(answers: readonly (string | Error)[], attachErrors: readonly Error[] = []) {
  const log: string[] = [];
  let next = 0;
  let attachTries = 0;
  return {
    log,
    where: 'guest console of t',
    write: (text: string) => { log.push(`write ${JSON.stringify(text)}`); },
    expect: async (pattern: RegExp | string) => {
      log.push(`expect ${String(pattern)}`);
      const error = attachErrors[attachTries++];
      if (error !== undefined) throw error;
      return Object.assign([String(pattern)], { index: 0, input: String(pattern) }) as RegExpExecArray;
    },
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
    expect(console.log).to.deep.equal(['expect __HIL_CONSOLE_RAW__', 'run echo hil-shell-ok', 'write "\\u0003"', 'run echo hil-shell-ok', 'write "\\u0003"', 'run echo hil-shell-ok']);
  });

  it('types nothing, not even a Ctrl-C, until the attach says the remote pty is raw', async () => {
    const notYet = new HarnessError('CONSOLE_TIMEOUT', 'no raw marker yet');
    const console = scriptedConsole([new HarnessError('CONSOLE_TIMEOUT', 'no marker'), 'hil-shell-ok\n'], [notYet, notYet]);
    await waitForGuestShell(console, 5000);
    expect(console.log).to.deep.equal(['expect __HIL_CONSOLE_RAW__', 'expect __HIL_CONSOLE_RAW__', 'expect __HIL_CONSOLE_RAW__', 'run echo hil-shell-ok', 'write "\\u0003"', 'run echo hil-shell-ok']);
  });

  it('ends at once when the attach command exits before the remote pty is raw', async () => {
    const console = scriptedConsole(['hil-shell-ok\n'], [new HarnessError('CONSOLE_CLOSED', 'the attach command exited (code 255)')]);
    const error = await rejectionOf(waitForGuestShell(console, 60_000));
    expect(error.message).to.include('the attach command exited (code 255)');
    expect(console.log).to.deep.equal(['expect __HIL_CONSOLE_RAW__']);
  });

  it('ends at once when the console\'s attach command has exited', async () => {
    const console = scriptedConsole([new HarnessError('CONSOLE_CLOSED', 'the attach command exited (code 0)')]);
    const error = await rejectionOf(waitForGuestShell(console, 60_000));
    expect(error.message).to.include('the attach command exited');
    expect(console.log).to.deep.equal(['expect __HIL_CONSOLE_RAW__', 'run echo hil-shell-ok']);
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
