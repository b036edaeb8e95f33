import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestConsole } from './GuestConsole.js';

describe('GuestConsole over a real pty', () => {
  let dir: string;
  let console_: GuestConsole;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hil-console-'));
    console_ = new GuestConsole({ argv: ['/bin/sh'], where: 'local shell', transcriptPath: join(dir, 'console.log'), defaultTimeoutMs: 5000 });
    console_.open();
  });
  afterEach(() => {
    console_.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs commands and returns their output and exit codes', async () => {
    const ok = await console_.run('echo hello; echo world');
    expect(ok.exitCode).to.equal(0);
    expect(ok.stdout.trim().split('\n')).to.deep.equal(['hello', 'world']);
    const failed = await console_.run('sh -c "exit 7"');
    expect(failed.exitCode).to.equal(7);
    const silent = await console_.run('true');
    expect(silent.stdout.trim()).to.equal('');
  });

  it('arm types a command that runs only when fired, with its output and exit code; it fires once', async () => {
    const marker = join(dir, 'ran');
    const armed = await console_.arm(`touch ${marker}; echo armed-output; sh -c "exit 3"`);
    // The shell has taken the whole line and waits: nothing of the command has run yet.
    expect(existsSync(marker)).to.equal(false);
    const result = await armed.fire();
    expect(existsSync(marker)).to.equal(true);
    expect(result.exitCode).to.equal(3);
    expect(result.stdout.trim().split('\n').filter((line) => line.trim() !== '')).to.deep.equal(['armed-output']);
    const again = await armed.fire().then(() => null, (e: unknown) => e);
    expect(again).to.have.property('code', 'CONSOLE_STATE');
    expect((await console_.run('echo after')).stdout.trim()).to.equal('after');
  });

  it('refuses to type a line longer than a guest shell keeps, naming its length', async () => {
    const error = await console_.run(`echo ${'x'.repeat(1000)}`).then(() => null, (e: unknown) => e);
    expect(error).to.have.property('code', 'CONSOLE_LINE_TOO_LONG');
    expect((error as Error).message).to.match(/a line of \d{4} characters, more than the 1000/);
    const armError = await console_.arm(`echo ${'x'.repeat(1000)}`).then(() => null, (e: unknown) => e);
    expect(armError).to.have.property('code', 'CONSOLE_LINE_TOO_LONG');
    expect((await console_.run('echo still-usable')).stdout.trim()).to.equal('still-usable');
  });

  it('expect times out showing the pattern and the tail of the output', async () => {
    console_.write('echo some-output-here\n');
    await console_.expect('some-output-here');
    let error: Error | null = null;
    try {
      await console_.expect(/never-printed/, 300);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.match(/never-printed.*did not appear within 300 ms/);
    expect(error?.message).to.contain('some-output-here');
  });

  it('keeps the whole transcript as an artifact and refuses calls after close', async () => {
    await console_.run('echo transcript-check');
    expect(readFileSync(join(dir, 'console.log'), 'utf8')).to.contain('transcript-check');
    console_.close();
    expect(() => console_.write('x')).to.throw(/write\(\) needs the console open, it is closed/);
  });
});
