/**
 * Downtime on the virtual lab while other work holds the CPUs: runs the ping-pong cell
 * (virtio-net-pci with vIOMMU, 4 migrations) ROUNDS times per configuration, each with BUSY
 * busy-looping processes alongside, and prints every migration's downtime and, per configuration,
 * the median, the largest and how many went over the lab's limits.downtimeMs. Configurations: the
 * lab as `hil lab up` makes it; the same with the kernel's TCP buffer sizes in the host
 * namespaces instead of the lab's (put back after); and the lab file with QEMU planning the
 * switchover with its own estimate at a 300 ms target (no switchoverBandwidthBytesPerSec) and the
 * kernel's buffers. Prints only; asserts nothing. The virtual lab must be up (`hil lab up`).
 *
 *   node dist/bench/switchoverUnderLoad.js [lab.yaml] [rounds] [busy]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { loadLab } from '../harness/config/loadLab.js';
import { LocalRunner, runChecked } from '../harness/LocalRunner.js';
import { HOST_TCP_BUFFERS, setTcpBuffersCommand, type TcpBuffers } from '../harness/virtual-lab/LabNetwork.js';
import { labLayout } from '../harness/virtual-lab/labLayout.js';
import { projectRoot } from '../harness/projectRoot.js';
import type { RunResults } from '../harness/report/RunResults.js';

const labFile = resolve(process.argv[2] ?? 'lab.yaml');
const rounds = Number(process.argv[3] ?? 4);
const busy = Number(process.argv[4] ?? 2);
const GREP = 'virtio-net-pci, with vIOMMU';

/** The same lab with QEMU's own switchover estimate at a 300 ms target, next to the lab file so its paths resolve. */
function estimateVariant(): string {
  const document = parseDocument(readFileSync(labFile, 'utf8'));
  document.setIn(['defaults', 'migration', 'downtimeLimitMs'], 300);
  document.deleteIn(['defaults', 'migration', 'switchoverBandwidthBytesPerSec']);
  const file = join(dirname(labFile), `.bench-switchover-${process.pid}.yaml`);
  writeFileSync(file, document.toString());
  return file;
}

function startBusy(): ChildProcess[] {
  return Array.from({ length: busy }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

/** Downtimes of one run, read from its results.json (the run's path is on its "results:" line). */
function runOnce(file: string): number[] {
  const run = spawnSync(process.execPath, [join(projectRoot(), 'bin/hil.js'), '--lab', file, 'run', 'suites/migration/ping-pong.spec.ts', '--grep', GREP], { encoding: 'utf8', cwd: projectRoot() });
  const resultsPath = /^results: (.+)$/m.exec(run.stdout)?.[1];
  if (resultsPath === undefined) throw new Error(`hil run wrote no results (exit ${run.status}):\n${run.stdout.slice(-2000)}${run.stderr.slice(-2000)}`);
  const results = JSON.parse(readFileSync(resultsPath, 'utf8')) as RunResults;
  return results.tests.flatMap((t) => t.migrations).map((m) => m.measurements.downtimeMs ?? Number.NaN);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Debian 12's defaults for a fresh namespace. */
const KERNEL_TCP_BUFFERS: TcpBuffers = { 'net.ipv4.tcp_rmem': '4096 131072 33554432', 'net.ipv4.tcp_wmem': '4096 16384 4194304' };

const lab = loadLab(labFile);
const runner = new LocalRunner();
async function setTcpBuffers(buffers: TcpBuffers): Promise<void> {
  for (const host of labLayout(lab).hosts) await runChecked(runner, setTcpBuffersCommand(host.namespace, buffers));
}

const limitMs = lab.defaults.limits.downtimeMs;
const variant = estimateVariant();
const configurations = [
  { name: 'lab as set up', file: labFile, buffers: HOST_TCP_BUFFERS },
  { name: 'kernel TCP buffers', file: labFile, buffers: KERNEL_TCP_BUFFERS },
  { name: 'QEMU estimate 300 ms, kernel buffers', file: variant, buffers: KERNEL_TCP_BUFFERS },
];
const downtimes = new Map<string, number[]>(configurations.map((c) => [c.name, []]));
try {
  for (let round = 1; round <= rounds; round++) {
    for (const configuration of configurations) {
      await setTcpBuffers(configuration.buffers);
      const loops = startBusy();
      try {
        const seen = runOnce(configuration.file);
        downtimes.get(configuration.name)!.push(...seen);
        console.log(`round ${round} ${configuration.name}: downtime ${seen.map((ms) => `${ms} ms`).join(', ')}`);
      } finally {
        for (const loop of loops) loop.kill('SIGKILL');
      }
    }
  }
} finally {
  rmSync(variant, { force: true });
  await setTcpBuffers(HOST_TCP_BUFFERS);
}
console.log(`\n${busy} busy loop(s), ${rounds} round(s); limits.downtimeMs ${limitMs}`);
for (const [name, values] of downtimes) {
  console.log(`${name.padEnd(38)} ${values.length} migrations: median ${median(values)} ms, max ${Math.max(...values)} ms, over the limit ${values.filter((ms) => ms >= limitMs).length}`);
}
