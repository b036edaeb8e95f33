import { expect } from 'chai';
import { createServer } from 'node:net';
import { QmpClient } from '../qmp/QmpClient.js';
import { spawnTestQemu, type TestQemu } from '../../test/support/spawnTestQemu.js';
import { Migration, type MigrationOptions } from './Migration.js';
import { PhaseHookError, type PhaseHook } from './PhaseHook.js';

/** Two real local QEMUs (firmware only, no guest): enough for QEMU to migrate RAM and devices. */
async function startPair(): Promise<{ src: TestQemu; dst: TestQemu; srcQmp: QmpClient; dstQmp: QmpClient; close: () => Promise<void> }> {
  const machine = (incoming: boolean) => (qmp: string) => [
    '-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'pc', '-accel', 'tcg', '-m', '64',
    '-qmp', `unix:${qmp},server=on,wait=off`, ...(incoming ? ['-incoming', 'defer'] : []),
  ];
  const src = await spawnTestQemu(machine(false));
  const dst = await spawnTestQemu(machine(true));
  const srcQmp = new QmpClient(await src.connect(), { where: 'QMP of test source' });
  const dstQmp = new QmpClient(await dst.connect(), { where: 'QMP of test destination' });
  await srcQmp.open();
  await dstQmp.open();
  return {
    src, dst, srcQmp, dstQmp,
    close: async () => {
      await Promise.allSettled([srcQmp.close(), dstQmp.close()]);
      await Promise.all([src.kill(), dst.kill()]);
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 0;
}

async function options(overrides: Partial<MigrationOptions> = {}): Promise<MigrationOptions> {
  return {
    id: 'test', listen: { address: '127.0.0.1', port: await freePort() }, downtimeLimitMs: 300,
    maxBandwidthBytesPerSec: 1 << 30, timeoutMs: 60_000, ...overrides,
  };
}

describe('Migration between two real QEMUs', function () {
  this.timeout(90_000);
  let pair: Awaited<ReturnType<typeof startPair>>;
  beforeEach(async () => { pair = await startPair(); });
  afterEach(async () => { await pair.close(); });

  const ends = () => [
    { host: 'local-a', vm: 'src', qmp: pair.srcQmp, clockOffsetMs: 0 },
    { host: 'local-b', vm: 'dst', qmp: pair.dstQmp, clockOffsetMs: 0 },
  ] as const;

  it('completes and records events, samples and every measurement source', async () => {
    const [s, d] = ends();
    const record = await new Migration(s, d, await options()).run();
    expect(record.outcome, record.reason ?? '').to.equal('completed');
    expect(record.samples.length).to.be.at.least(1);
    expect(record.measurements.downtimeMs).to.be.a('number').and.to.be.at.least(0);
    expect(record.measurements.totalTimeMs).to.be.greaterThan(0);
    expect(record.measurements.ramBytes).to.be.greaterThan(0);
    // Both clocks are this machine's: the pause window is real and positive.
    expect(record.measurements.pauseWindowMs).to.be.a('number').and.to.be.greaterThan(0);
    const names = record.events.map((e) => `${e.side}:${e.name}`);
    expect(names).to.include.members(['source:STOP', 'destination:RESUME']);
    expect(record.events.some((e) => e.side === 'source' && e.name === 'MIGRATION' && e.data['status'] === 'completed')).to.equal(true);
    expect((await pair.srcQmp.execute<{ status: string }>('query-status')).status).to.equal('postmigrate');
    expect((await pair.dstQmp.execute<{ status: string }>('query-status')).status).to.equal('running');
  });

  it('fires a phase hook at the phase asked for, and cancel leaves the source running', async () => {
    const [s, d] = ends();
    const hook: PhaseHook = { name: 'cancel', at: { kind: 'activeFor', ms: 300 }, action: async () => { await pair.srcQmp.execute('migrate_cancel'); } };
    const record = await new Migration(s, d, await options({ maxBandwidthBytesPerSec: 20_000, hooks: [hook] })).run();
    expect(record.outcome).to.equal('cancelled');
    const fired = record.hooks[0]!;
    expect(fired.error).to.equal(null);
    const firstActive = record.samples.find((x) => x.status === 'active')!;
    expect(fired.firedAtMs - firstActive.atMs).to.be.at.least(300);
    expect(record.isSourceResumed).to.equal(true);
    expect((await pair.srcQmp.execute<{ status: string }>('query-status')).status).to.equal('running');
  });

  it('runs a pre-switchover hook with the guest stopped before the switchover', async () => {
    const [s, d] = ends();
    let statusDuringHook = '';
    const hook: PhaseHook = { name: 'look', at: { kind: 'preSwitchover' }, action: async () => {
      statusDuringHook = (await pair.srcQmp.execute<{ status: string }>('query-migrate')).status;
    } };
    const record = await new Migration(s, d, await options({ hooks: [hook] })).run();
    expect(record.outcome, record.reason ?? '').to.equal('completed');
    expect(record.capabilities['pause-before-switchover']).to.equal(true);
    expect(statusDuringHook).to.equal('pre-switchover');
  });

  it('rejects with the finished record when a phase hook fails', async () => {
    const [s, d] = ends();
    // Cancelled in the hook so that the slow migration ends; the hook then fails as a guest action would.
    const hook: PhaseHook = { name: 'broken guest action', at: { kind: 'activeFor', ms: 0 }, action: async () => {
      await pair.srcQmp.execute('migrate_cancel');
      throw new Error('guest said no');
    } };
    const error = await new Migration(s, d, await options({ maxBandwidthBytesPerSec: 20_000, hooks: [hook] })).run().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(PhaseHookError);
    const hookError = error as PhaseHookError;
    expect(hookError.code).to.equal('PHASE_HOOK_FAILED');
    expect(hookError.message).to.match(/"broken guest action" \(once active for 0 ms\) failed: guest said no/);
    expect(hookError.record.hooks[0]?.error).to.equal('guest said no');
    expect(hookError.record.outcome).to.equal('cancelled');
  });

  it('rejects when a phase hook never fired, unless it is conditional', async () => {
    const [s, d] = ends();
    const late: PhaseHook = { name: 'at pass 50', at: { kind: 'pass', pass: 50 }, action: async () => undefined };
    const error = await new Migration(s, d, await options({ hooks: [late] })).run().then(() => null, (e: unknown) => e);
    expect(error).to.be.instanceOf(PhaseHookError);
    expect((error as PhaseHookError).code).to.equal('PHASE_HOOK_NOT_FIRED');
    expect((error as PhaseHookError).message).to.match(/"at pass 50" \(at pass 50\) never fired: migration test local-a→local-b ended completed/);
    await pair.close();
    pair = await startPair();
    const [s2, d2] = ends();
    const record = await new Migration(s2, d2, await options({ hooks: [{ ...late, isConditional: true }] })).run();
    expect(record.outcome, record.reason ?? '').to.equal('completed');
    expect(record.hooks).to.deep.equal([]);
  });

  it('fails with a reason when the destination dies mid-migration, and resumes the source', async () => {
    const [s, d] = ends();
    const hook: PhaseHook = { name: 'kill destination', at: { kind: 'activeFor', ms: 200 }, action: async () => { await pair.dst.kill(); } };
    const record = await new Migration(s, d, await options({ maxBandwidthBytesPerSec: 20_000, hooks: [hook] })).run();
    expect(record.outcome).to.equal('failed');
    expect(record.reason).to.be.a('string').and.not.equal('');
    expect(record.isSourceResumed).to.equal(true);
    expect((await pair.srcQmp.execute<{ status: string }>('query-status')).status).to.equal('running');
  });

  it('plans the switchover with the bandwidth asked for: QEMU holds avail-switchover-bandwidth and the record keeps it', async () => {
    const [s, d] = ends();
    const switchoverBandwidthBytesPerSec = 8 * 1024 * 1024;
    const record = await new Migration(s, d, await options({ switchoverBandwidthBytesPerSec })).run();
    expect(record.outcome, record.reason ?? '').to.equal('completed');
    expect(record.parameters['avail-switchover-bandwidth']).to.equal(switchoverBandwidthBytesPerSec);
    const held = await pair.srcQmp.execute<Record<string, unknown>>('query-migrate-parameters');
    expect(held['avail-switchover-bandwidth']).to.equal(switchoverBandwidthBytesPerSec);
  });

  it('leaves avail-switchover-bandwidth at QEMU\'s default (its own estimate) when not asked for', async () => {
    const [s, d] = ends();
    const record = await new Migration(s, d, await options()).run();
    expect(record.parameters).to.not.have.property('avail-switchover-bandwidth');
    const held = await pair.srcQmp.execute<Record<string, unknown>>('query-migrate-parameters');
    expect(held['avail-switchover-bandwidth']).to.equal(0);
  });

  it('ends at its deadline naming the phase and the last query-migrate', async () => {
    const [s, d] = ends();
    const record = await new Migration(s, d, await options({ maxBandwidthBytesPerSec: 10_000, timeoutMs: 500 })).run();
    expect(record.outcome).to.equal('timeout');
    expect(record.reason).to.match(/did not finish within 500 ms; last query-migrate: status active, \d+ bytes sent/);
    expect(record.isSourceResumed).to.equal(true);
  });
});
