import { rejectionOf } from '../../test/support/rejectionOf.js';
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { QmpCommandError, QmpDisconnectedError, QmpStateError, QmpTimeoutError } from './errors.js';
import { QmpClient } from './QmpClient.js';
import { spawnTestQemu, TEST_QEMU_BINARY, type TestQemu } from '../../test/support/spawnTestQemu.js';

describe('QmpClient against real QEMU', function () {
  let qemu: TestQemu;
  let client: QmpClient;

  beforeEach(async function () {
    qemu = await spawnTestQemu();
    client = new QmpClient(await qemu.connect(), { where: 'QMP of test-vm', defaultTimeoutMs: 10_000 });
  });

  afterEach(async function () {
    await client.close();
    await qemu.kill();
  });

  it('reads the greeting, keeps the version, and negotiates capabilities', async function () {
    expect(client.state).to.equal('new');
    const greeting = await client.open();
    expect(client.state).to.equal('open');
    // The same binary's --version is the ground truth, e.g. "QEMU emulator version 10.0.2 (Debian ...)".
    const versionLine = execFileSync(TEST_QEMU_BINARY, ['--version'], { encoding: 'utf8' });
    const [, major, minor, micro] = /version (\d+)\.(\d+)\.(\d+)/.exec(versionLine) ?? [];
    expect(client.qemuVersion).to.include({ major: Number(major), minor: Number(minor), micro: Number(micro) });
    expect(greeting.capabilities).to.include('oob');
  });

  it('runs query-status', async function () {
    await client.open();
    const status = await client.execute<{ status: string; running: boolean }>('query-status');
    expect(status).to.deep.equal({ status: 'prelaunch', running: false });
  });

  it('rejects an unknown command with CommandNotFound, naming the command', async function () {
    await client.open();
    const error = await rejectionOf(client.execute('no-such-command'));
    expect(error).to.be.instanceOf(QmpCommandError);
    const commandError = error as QmpCommandError;
    expect(commandError.code).to.equal('QMP_COMMAND_FAILED');
    expect(commandError.errorClass).to.equal('CommandNotFound');
    expect(commandError.desc).to.contain('no-such-command');
    expect(commandError.message).to.contain('QMP command no-such-command failed on QMP of test-vm');
  });

  it('rejects a failing command with GenericError and keeps the arguments sent', async function () {
    await client.open();
    const args = { uri: 'bogus:1' };
    const error = (await rejectionOf(client.execute('migrate', args))) as QmpCommandError;
    expect(error.errorClass).to.equal('GenericError');
    expect(error.sent).to.deep.equal({ command: 'migrate', arguments: args });
    expect(error.message).to.contain('migrate {"uri":"bogus:1"}').and.to.contain('bogus');
  });

  it('delivers STOP/RESUME to every listener and keeps them in history with timestamps', async function () {
    await client.open();
    const first = client.listen('first');
    const second = client.listen('second');
    const cursor = client.eventCursor;
    // Armed before the command: QEMU sends RESUME before the reply to `cont`.
    const resumed = client.waitForEvent('RESUME', { timeoutMs: 5000 });
    await client.execute('cont');
    const resume = await resumed;
    const stopped = client.waitForEvent('STOP', { timeoutMs: 5000 });
    const stopSentAtMs = Date.now();
    await client.execute('stop');
    const stop = await stopped;

    for (const listener of [first, second]) {
      expect((await listener.next({ timeoutMs: 1000 })).name).to.equal('RESUME');
      expect((await listener.next({ timeoutMs: 1000 })).name).to.equal('STOP');
      expect(listener.size).to.equal(0);
    }
    const names = client.history.filter((e) => e.seq >= cursor).map((e) => e.name);
    expect(names).to.deep.equal(['RESUME', 'STOP']);
    expect(stop.seq).to.be.greaterThan(resume.seq);
    // Same machine, same wall clock: QEMU stamped STOP after we sent `stop` and before we received
    // it (1 ms for rounding), which a timestamp read in the wrong unit or epoch would not be.
    expect(stop.timestampMs).to.be.at.least(stopSentAtMs - 1);
    expect(stop.timestampMs).to.be.at.most(stop.receivedAtMs + 1);
    expect(stop.timestampMs).to.be.at.least(resume.timestampMs);
  });

  it('finds an event already received when asked to look from a cursor, and times out otherwise', async function () {
    await client.open();
    const cursor = client.eventCursor;
    const resumed = client.waitForEvent('RESUME', { timeoutMs: 5000 });
    await client.execute('cont');
    await resumed;
    const fromHistory = await client.waitForEvent('RESUME', { since: cursor, timeoutMs: 1000 });
    expect(fromHistory.name).to.equal('RESUME');
    const error = await rejectionOf(client.waitForEvent('RESUME', { timeoutMs: 200 }));
    expect(error).to.be.instanceOf(QmpTimeoutError);
    expect(error.message).to.contain('waiting for event RESUME').and.to.contain('RESUME');
  });

  it('matches events by a subset of their data', async function () {
    await client.open();
    await client.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
    // A migration to a port nobody listens on fails at once: MIGRATION setup → failed.
    const failed = client.waitForEvent('MIGRATION', { match: { status: 'failed' }, timeoutMs: 5000 });
    await client.execute('migrate', { uri: 'unix:/nonexistent/hil-no-such-socket' }).catch((error: unknown) => {
      // QEMU 10.0 may refuse at once or fail asynchronously: both end in status "failed".
      expect(error).to.be.instanceOf(QmpCommandError);
    });
    const event = await failed;
    expect(event.data).to.deep.include({ status: 'failed' });
  });

  it('times out a call whose reply does not come, then ignores the late reply', async function () {
    await client.open();
    qemu.child.kill('SIGSTOP');
    const error = await rejectionOf(client.execute('query-status', undefined, { timeoutMs: 300 }));
    expect(error).to.be.instanceOf(QmpTimeoutError);
    expect(error.message).to.contain('the reply to query-status');
    qemu.child.kill('SIGCONT');
    const status = await client.execute<{ status: string }>('query-name');
    expect(status).to.be.an('object');
    expect(client.protocolErrors).to.have.length(0);
  });

  it('rejects pending calls, waits and listeners when QEMU is killed', async function () {
    await client.open();
    const listener = client.listen();
    // Stopped QEMU cannot answer, so the call is certainly pending when the socket goes away.
    qemu.child.kill('SIGSTOP');
    const call = rejectionOf(client.execute('query-status', undefined, { timeoutMs: 10_000 }));
    const wait = rejectionOf(client.waitForEvent('SHUTDOWN', { timeoutMs: 10_000 }));
    const next = rejectionOf(listener.next({ timeoutMs: 10_000 }));
    await qemu.kill();
    const [callError, waitError, nextError] = await Promise.all([call, wait, next]);
    expect(callError).to.be.instanceOf(QmpDisconnectedError);
    expect((callError as QmpDisconnectedError).data).to.include({ command: 'query-status' });
    expect(callError.message).to.contain('the reply to query-status');
    expect(waitError).to.be.instanceOf(QmpDisconnectedError);
    expect(waitError.message).to.contain('event SHUTDOWN');
    expect(nextError).to.be.instanceOf(QmpDisconnectedError);
    expect(client.state).to.equal('closed');
    const after = await rejectionOf(client.execute('query-status'));
    expect(after).to.be.instanceOf(QmpStateError);
    expect(after.message).to.contain('execute("query-status")').and.to.contain('closed');
  });

  it('refuses calls in the wrong state, naming the call and the state', async function () {
    const early = await rejectionOf(client.execute('query-status'));
    expect(early).to.be.instanceOf(QmpStateError);
    expect(early.message).to.contain('execute("query-status")').and.to.contain('client is new');
    await client.open();
    const twice = await rejectionOf(client.open());
    expect(twice).to.be.instanceOf(QmpStateError);
    expect(twice.message).to.contain('open()').and.to.contain('client is open');
    await client.close();
    expect(client.state).to.equal('closed');
    expect(() => client.waitForEvent('STOP', { timeoutMs: 100 })).to.throw(QmpStateError, /closed/);
  });
});
