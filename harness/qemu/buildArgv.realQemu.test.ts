import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QmpClient } from '../qmp/QmpClient.js';
import { spawnTestQemu, TEST_QEMU_BINARY, type TestQemu } from '../../test/support/spawnTestQemu.js';
import { buildArgv } from './buildArgv.js';
import type { VmSpec } from './VmSpec.js';

/**
 * The argv buildArgv makes, given to the real QEMU 10 on this machine (TCG, paused): proof that
 * QEMU accepts it, not only that it looks right. VFIO devices cannot be realized here, so their
 * check is that QEMU gets as far as looking for the host device (all options parsed).
 */
function specIn(dir: string, qmpSocket: string, overrides: Partial<VmSpec>): VmSpec {
  return {
    name: 'hil-argvtest-src',
    machine: 'pc',
    memoryMiB: 64,
    cpus: 1,
    qmpSocket,
    serialSocket: join(dir, 'serial.sock'),
    nics: [],
    startsPaused: true,
    ...overrides,
  };
}

describe('buildArgv accepted by real QEMU', function () {
  this.timeout(30_000);
  let qemu: TestQemu | undefined;
  let client: QmpClient | undefined;

  async function start(overrides: Partial<VmSpec>, prefix?: readonly string[]): Promise<QmpClient> {
    const options = prefix === undefined ? {} : { prefix };
    qemu = await spawnTestQemu((qmpSocket, dir) => buildArgv(specIn(dir, qmpSocket, overrides)), options);
    client = new QmpClient(await qemu.connect(), { where: 'argv test VM', defaultTimeoutMs: 10_000 });
    try {
      await client.open();
    } catch (error) {
      throw new Error(`QEMU did not greet; its output:\n${qemu.output()}`, { cause: error });
    }
    return client;
  }

  afterEach(async function () {
    await client?.close();
    await qemu?.kill();
    client = undefined;
    qemu = undefined;
  });

  it('starts the minimal pc VM with its name, a serial socket, and paused', async function () {
    const qmp = await start({});
    expect(await qmp.execute('query-status')).to.deep.include({ status: 'prelaunch' });
    expect(await qmp.execute('query-name')).to.deep.equal({ name: 'hil-argvtest-src' });
    expect(statSync(join(qemu!.dir, 'serial.sock')).isSocket()).to.equal(true);
  });

  it('starts q35 with a scalable-mode vIOMMU, SATA off, incoming defer, traces with timestamps', async function () {
    const overrides: Partial<VmSpec> = {
      machine: 'q35',
      viommu: { model: 'intel-iommu', isScalableMode: true },
      isIncoming: true,
      isLogTimestamped: true,
    };
    qemu = await spawnTestQemu((qmpSocket, dir) =>
      buildArgv(specIn(dir, qmpSocket, { ...overrides, traces: { patterns: ['qmp_enter_*'], file: join(dir, 'trace.log') } })),
    );
    client = new QmpClient(await qemu.connect(), { where: 'argv test VM' });
    await client.open();
    expect(await client.execute('query-status')).to.deep.include({ status: 'inmigrate' });
    expect(await client.execute('qom-get', { path: '/machine/peripheral/viommu0', property: 'caching-mode' })).to.equal(true);
    expect(await client.execute('qom-get', { path: '/machine/peripheral/viommu0', property: 'x-scalable-mode' })).to.equal(true);
    expect(await client.execute('qom-get', { path: '/machine', property: 'sata' })).to.equal(false);
    // The log backend writes "<pid>@<seconds>.<micros>:<event> ..." lines when -msg timestamp=on.
    const traceFile = join(qemu.dir, 'trace.log');
    const deadline = Date.now() + 5000;
    let trace = '';
    while (!/^\d+@\d+\.\d{6}:qmp_enter_query_status/m.test(trace)) {
      if (Date.now() > deadline) throw new Error(`trace.log never showed qmp_enter_query_status; last content: ${JSON.stringify(trace)}`);
      trace = existsSync(traceFile) ? readFileSync(traceFile, 'utf8') : '';
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('starts with a raw disk', async function () {
    const disk = join('/tmp', `hil-argvtest-${process.pid}.raw`);
    writeFileSync(disk, Buffer.alloc(1024 * 1024));
    try {
      const qmp = await start({ boot: { kind: 'disk', path: disk, format: 'raw', isReadOnly: true } });
      const blocks = await qmp.execute<{ device: string; inserted?: { file: string; ro: boolean } }[]>('query-block');
      expect(blocks.map((b) => [b.device, b.inserted?.file, b.inserted?.ro])).to.deep.include(['disk0-drive', disk, true]);
    } finally {
      spawnSync('rm', ['-f', disk]);
    }
  });

  it('starts every emulated NIC model on a tap (in a private network namespace)', async function () {
    // QEMU (as root) creates a missing tap itself; a fresh namespace keeps it off the host.
    const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--net', 'true']).status === 0;
    if (!canUnshare) this.skip();
    const models = ['virtio-net-pci', 'e1000e', 'igb'] as const;
    const nics = models.map((model, i) => ({ kind: 'emulated' as const, id: `nic${i}`, model, tap: `hiltest${i}`, mac: `52:54:00:00:10:0${i}` }));
    const qmp = await start({ nics }, ['unshare', '--net', '--']);
    for (const nic of nics) {
      expect(await qmp.execute('qom-get', { path: `/machine/peripheral/${nic.id}`, property: 'mac' })).to.equal(nic.mac);
      expect(await qmp.execute('qom-get', { path: `/machine/peripheral/${nic.id}`, property: 'type' })).to.equal(nic.model);
    }
  });

  const vfioSpecs: { what: string; overrides: Partial<VmSpec>; lookedFor: string }[] = [
    {
      what: 'legacy VF with every migration property',
      overrides: { nics: [{ kind: 'vfio', id: 'vf0', host: '0000:3b:00.2', backend: 'legacy', migration: { enableMigration: 'on', migrationEvents: true, deviceDirtyPageTracking: 'off', preCopyDirtyPageTracking: 'off' } }] },
      lookedFor: '/sys/bus/pci/devices/0000:3b:00.2',
    },
    {
      what: 'VF on IOMMUFD behind a vIOMMU with first-stage translation',
      overrides: {
        machine: 'q35',
        viommu: { model: 'intel-iommu', isScalableMode: true, hasFirstStageTranslation: true },
        nics: [{ kind: 'vfio', id: 'vf0', host: '0000:3b:00.2', backend: 'iommufd', migration: { enableMigration: 'auto', migrationEvents: true } }],
      },
      lookedFor: '/sys/bus/pci/devices/0000:3b:00.2',
    },
    {
      what: 'mdev',
      overrides: { nics: [{ kind: 'mdev', id: 'tty0', uuid: '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001', migration: { enableMigration: 'on' } }] },
      lookedFor: '/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001',
    },
  ];
  for (const { what, overrides, lookedFor } of vfioSpecs) {
    it(`parses every option of a ${what}, failing only at the missing host device`, function () {
      const argv = buildArgv(specIn('/tmp', '/tmp/hil-argvtest-vfio.qmp', { ...overrides, serialSocket: '/tmp/hil-argvtest-vfio.serial' }));
      const result = spawnSync(TEST_QEMU_BINARY, argv, { encoding: 'utf8', timeout: 20_000 });
      spawnSync('rm', ['-f', '/tmp/hil-argvtest-vfio.qmp', '/tmp/hil-argvtest-vfio.serial']);
      expect(result.status, result.stderr).to.equal(1);
      // Option errors ("Property 'vfio-pci.x' not found", "Invalid parameter") come before realize.
      expect(result.stderr).to.contain(`vfio ${lookedFor}: no such host device`);
      expect(result.stderr).to.not.match(/not found|Invalid parameter|expects/);
    });
  }
});
