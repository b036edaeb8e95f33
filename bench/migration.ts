/**
 * Migration figures on the virtual lab (it must be up: `hil lab up`). Prints:
 *  1. the harness's end-to-end time per migration (LabSession.migrate: capabilities, incoming,
 *     migrate, 10 Hz sampling, events, probe window, record) against a minimal script doing the
 *     same QMP steps over plain sockets, and their ratio;
 *  2. the probe stream's CPU cost at 100 Hz and 1 kHz;
 *  3. over N migrations (default 20), downtimeMs, pauseWindowMs and guestOutageMs side by side.
 *
 *   node dist/bench/migration.js [migrations=20]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvironment } from '../harness/config/environment.js';
import { loadLab } from '../harness/config/loadLab.js';
import { ProbeStream } from '../harness/measure/ProbeStream.js';
import { percentile } from '../harness/measure/statistics.js';
import { buildArgv } from '../harness/qemu/buildArgv.js';
import { LabSession } from '../harness/session/LabSession.js';
import type { LabVm } from '../harness/session/LabVm.js';
import { TestScope } from '../harness/session/TestScope.js';
import { vmSpecFor } from '../harness/session/vmSpecFor.js';

const lab = loadLab('lab.yaml');
const migrations = Number(process.argv[2] ?? '20');
const [hostA, hostB] = [lab.hosts[lab.pairs[0]!.source]!, lab.hosts[lab.pairs[0]!.destination]!];
const guest = lab.guests['default']!;
const runDir = mkdtempSync(join(tmpdir(), 'hil-bench-'));

/** A minimal QMP exchange: one JSON line out, lines in until the reply (events skipped). */
class RawQmp {
  private buffer = '';
  private waiting: ((line: Record<string, unknown>) => void) | null = null;
  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const message = JSON.parse(this.buffer.slice(0, nl)) as Record<string, unknown>;
        this.buffer = this.buffer.slice(nl + 1);
        if ('event' in message) continue;
        this.waiting?.(message);
      }
    });
  }
  static async open(path: string): Promise<RawQmp> {
    const socket = await new Promise<Socket>((resolve, reject) => { const s = connect(path, () => resolve(s)); s.once('error', reject); });
    const qmp = new RawQmp(socket);
    await qmp.next();
    await qmp.cmd('qmp_capabilities');
    return qmp;
  }
  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => { this.waiting = resolve; });
  }
  async cmd(execute: string, args?: object): Promise<Record<string, unknown>> {
    const reply = this.next();
    this.socket.write(`${JSON.stringify(args === undefined ? { execute } : { execute, arguments: args })}\n`);
    const answer = await reply;
    if ('error' in answer) throw new Error(`${execute}: ${JSON.stringify(answer['error'])}`);
    return answer['return'] as Record<string, unknown>;
  }
  close(): void { this.socket.destroy(); }
}

/** QEMU started directly in a host namespace, as a minimal script would. */
async function rawVm(host: typeof hostA, role: string, incoming: boolean): Promise<{ qmp: RawQmp; kill: () => void }> {
  const name = `hil-bench-${role}`;
  const spec = vmSpecFor({ name, host, vmDir: host.workDir, guest, boot: { kernel: guest.kernel!, initrd: guest.initrd! }, isIncoming: incoming });
  const child = spawn('ip', ['netns', 'exec', `${lab.virtualLab!.prefix}-${host.name}`, lab.qemu[host.qemu]!.binary, ...buildArgv(spec)], { stdio: 'ignore' });
  let lastError: unknown;
  for (let i = 0; i < 200; i++) {
    try {
      return { qmp: await RawQmp.open(spec.qmpSocket), kill: () => child.kill('SIGKILL') };
    } catch (error) {
      // The socket appears a moment after QEMU starts; a minimal script just retries.
      lastError = error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`raw QEMU ${name} did not open QMP: ${String(lastError)}`);
}

async function minimalMigration(src: RawQmp, dst: RawQmp, dstHost: typeof hostA): Promise<number> {
  const t0 = performance.now();
  const caps = { capabilities: [{ capability: 'events', state: true }, { capability: 'return-path', state: true }] };
  await src.cmd('migrate-set-capabilities', caps);
  await dst.cmd('migrate-set-capabilities', caps);
  await src.cmd('migrate-set-parameters', { 'downtime-limit': lab.defaults.migration.downtimeLimitMs, 'max-bandwidth': lab.defaults.migration.maxBandwidthBytesPerSec });
  const uri = `tcp:${dstHost.migrationAddress}:${lab.defaults.migration.port}`;
  await dst.cmd('migrate-incoming', { uri });
  await src.cmd('migrate', { uri });
  while ((await src.cmd('query-migrate'))['status'] !== 'completed') await new Promise((r) => setTimeout(r, 100));
  while ((await dst.cmd('query-status'))['status'] !== 'running') await new Promise((r) => setTimeout(r, 20));
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const session = await LabSession.open({ lab, environment: readEnvironment(), runId: 'bench', runDir });
  try {
    // 1 + 3: harness migrations ping-pong.
    const scope = new TestScope('bench', runDir, 'artifacts');
    const probe = await session.startProbe(scope);
    let vm: LabVm = await session.launchVm(scope, { host: hostA.name, role: 'h0' });
    await probe.waitForReply(lab.defaults.timeouts.bootMs);
    const harnessMs: number[] = [];
    const rows: { downtimeMs?: number; pauseWindowMs?: number; guestOutageMs?: number }[] = [];
    for (let i = 1; i <= migrations; i++) {
      const next = await session.launchVm(scope, { host: (i % 2 === 1 ? hostB : hostA).name, role: `h${i}`, isIncoming: true });
      const t0 = performance.now();
      const record = await session.migrate(scope, vm, next, { probe });
      harnessMs.push(performance.now() - t0);
      if (record.outcome !== 'completed') throw new Error(`migration ${i}: ${record.outcome} ${record.reason}`);
      rows.push(record.measurements);
      await vm.stop();
      vm = next;
    }
    await scope.teardown.run();

    // 1: the same steps by a minimal script, on VMs it starts itself.
    const minimalMs: number[] = [];
    let src = await rawVm(hostA, 'r0', false);
    await new Promise((r) => setTimeout(r, 3000));
    for (let i = 1; i <= Math.min(migrations, 10); i++) {
      const dstHost = i % 2 === 1 ? hostB : hostA;
      const dst = await rawVm(dstHost, `r${i}`, true);
      minimalMs.push(await minimalMigration(src.qmp, dst.qmp, dstHost));
      src.qmp.close();
      src.kill();
      src = dst;
    }
    src.qmp.close();
    src.kill();
    // What a minimal script leaves behind (sockets, serial logs) is not left on the hosts.
    for (const host of [hostA, hostB]) {
      for (const file of readdirSync(host.workDir).filter((f) => f.startsWith('hil-bench-'))) rmSync(join(host.workDir, file), { force: true });
    }

    const med = (v: number[]) => percentile(v, 50);
    console.log(`1. end-to-end per migration: harness median ${med(harnessMs).toFixed(0)} ms (n=${harnessMs.length}), minimal QMP script median ${med(minimalMs).toFixed(0)} ms (n=${minimalMs.length}), ratio ${(med(harnessMs) / med(minimalMs)).toFixed(2)}`);

    // 2: probe CPU cost against the guest's echo (a fresh guest for it).
    const scope2 = new TestScope('bench-probe', runDir, 'artifacts2');
    await session.launchVm(scope2, { host: hostA.name, role: 'p0' });
    for (const rateHz of [100, 1000]) {
      const p = new ProbeStream({ address: guest.address, port: guest.echoPort }, rateHz);
      await p.start();
      await p.waitForReply(lab.defaults.timeouts.bootMs);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 5000));
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - t0;
      await p.stop();
      const report = p.outage(0, Number.MAX_SAFE_INTEGER);
      console.log(`2. probe at ${rateHz} Hz: ${(((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(2)} % of one core (controller process), ${report.sent} sent, ${report.received} replies`);
    }
    await scope2.teardown.run();

    console.log(`3. ${rows.length} migrations (ms):`);
    console.log('   #   downtimeMs  pauseWindowMs  guestOutageMs');
    rows.forEach((r, i) => console.log(`  ${String(i + 1).padStart(2)}  ${String(r.downtimeMs ?? '-').padStart(10)}  ${(r.pauseWindowMs?.toFixed(1) ?? '-').padStart(13)}  ${(r.guestOutageMs?.toFixed(1) ?? '-').padStart(13)}`));
    for (const key of ['downtimeMs', 'pauseWindowMs', 'guestOutageMs'] as const) {
      const values = rows.map((r) => r[key]).filter((v): v is number => v !== undefined);
      console.log(`   ${key}: p50 ${percentile(values, 50).toFixed(1)}, p95 ${percentile(values, 95).toFixed(1)}, max ${Math.max(...values).toFixed(1)}`);
    }
  } finally {
    await session.close();
    rmSync(runDir, { recursive: true, force: true });
  }
}

await main();
