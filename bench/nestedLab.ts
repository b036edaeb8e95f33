/**
 * Times the nested lab: the L1 image build cold (fresh caches: mmdebstrap x2, module build, mkfs)
 * and cached, the L1 boot of each host alone and of both together (launch to SSH banner), and an
 * L2 guest's boot inside an L1 with -accel kvm and with TCG (TCG inside TCG). Prints figures only.
 *
 *   node dist/bench/nestedLab.js [--no-cold] [--no-tcg]
 *
 * Runs on its own prefix, subnet and state folder (labs/.lab/nested-bench), so a nested lab in
 * use is never touched; the cold build gets caches of its own there (deleted first), the rest
 * uses labs/nested.yaml's caches. Needs root; leaves its L1s down.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvironment } from '../harness/config/environment.js';
import { HostConnections } from '../harness/host/HostConnections.js';
import { LocalRunner } from '../harness/LocalRunner.js';
import { bootL2InL1 } from '../harness/nested-lab/bootL2InL1.js';
import { NestedLab } from '../harness/nested-lab/NestedLab.js';
import { nestedLabConfig } from '../test/support/nestedLabFixture.js';
import { waitForSshSessionsClosed } from '../harness/nested-lab/waitForSshSessionsClosed.js';

async function timed<T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const startedAt = performance.now();
  const value = await action();
  return { value, ms: performance.now() - startedAt };
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const log = (line: string): void => console.error(`  | ${new Date().toISOString().slice(11, 19)} ${line}`);
  const config = nestedLabConfig({ prefix: 'nhilb', subnet: '10.232.8', stateDir: '.lab/nested-bench' });
  const sharedCache = join(nestedLabConfig().cacheDir, 'nested');
  const rows: [string, number][] = [];

  if (!args.has('--no-cold')) {
    const coldCache = join(config.stateDir, 'cold-cache');
    rmSync(coldCache, { recursive: true, force: true });
    const coldLab = new NestedLab(config, new LocalRunner(), log, { cacheDir: coldCache });
    const cold = await timed(() => coldLab.image.ensure());
    rows.push(['L1 image build, cold (apt lists, 2x mmdebstrap, modules, mkfs)', cold.ms]);
    for (const [phase, ms] of Object.entries(cold.value.manifest.phasesMs)) rows.push([`  phase ${phase}`, ms]);
    rows.push(['L1 image ensure, cached (no-op)', (await timed(() => coldLab.image.ensure())).ms]);
    rmSync(coldCache, { recursive: true, force: true });
  }

  const lab = new NestedLab(config, new LocalRunner(), log, { cacheDir: sharedCache });
  await lab.down();
  rows.push(['lab prepare, caches warm (images, network, keys)', (await timed(() => lab.prepare())).ms]);
  rows.push(['L1 image ensure, cached (no-op)', (await timed(() => lab.image.ensure())).ms]);
  for (const vm of lab.vms) {
    const alone = await timed(() => lab.boot([vm]));
    rows.push([`L1 ${vm.host.hostName} alone: launch to SSH banner`, alone.ms]);
    await vm.stop();
  }
  const both = await timed(() => lab.boot());
  for (const host of both.value) rows.push([`L1 ${host.host} with the other booting: launch to SSH banner`, host.readyMs]);

  const connections = new HostConnections(config, readEnvironment());
  try {
    const host = config.hosts['host-a']!;
    const transport = await connections.open(host);
    const guest = config.guests['default']!;
    const kvm = await bootL2InL1(transport, guest, { workDir: host.workDir, accelerator: 'kvm', timeoutMs: 300_000 });
    rows.push(['L2 boot in L1 with -accel kvm (launch to "hil: ready")', kvm.readyMs]);
    if (!args.has('--no-tcg')) {
      const tcg = await bootL2InL1(transport, guest, { workDir: host.workDir, accelerator: 'tcg', timeoutMs: 900_000 });
      rows.push(['L2 boot in L1 with TCG (TCG inside TCG)', tcg.readyMs]);
    }
  } finally {
    await connections.closeAll();
    await waitForSshSessionsClosed(new LocalRunner(), Object.values(config.hosts).map((h) => h.address));
    rows.push(['lab down (two L1s running)', (await timed(() => lab.down())).ms]);
  }

  const width = Math.max(...rows.map(([name]) => name.length));
  console.log('nested lab timings (2 cores; L1 = TCG q35 + VT-d, 2 vCPU, 3 GiB)');
  for (const [name, ms] of rows) console.log(`${name.padEnd(width)}  ${(ms / 1000).toFixed(1).padStart(7)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
