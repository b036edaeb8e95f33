/**
 * Times SSH connect + first exec and preflight per host of a lab (the lab must be up: for the
 * virtual lab, `hil lab up` first). Prints figures only; best and median of N rounds.
 *
 *   node dist/bench/preflight.js [lab.yaml] [rounds]
 */
import { resolve } from 'node:path';
import { readEnvironment } from '../harness/config/environment.js';
import { loadLab } from '../harness/config/loadLab.js';
import { HostConnections } from '../harness/host/HostConnections.js';
import { preflightLab } from '../harness/host/preflightLab.js';
import { percentile } from '../harness/measure/statistics.js';
import { SshTransport } from '../harness/ssh/SshTransport.js';

async function main(): Promise<void> {
  const lab = loadLab(resolve(process.argv[2] ?? 'lab.yaml'));
  const rounds = Number(process.argv[3] ?? '5');
  const environment = readEnvironment();
  for (const host of Object.values(lab.hosts)) {
    const connectMs: number[] = [];
    const execMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const transport = new SshTransport(host, { connectTimeoutMs: lab.defaults.timeouts.sshConnectMs });
      const t0 = performance.now();
      await transport.open();
      const t1 = performance.now();
      await transport.run('true');
      const t2 = performance.now();
      await transport.close();
      connectMs.push(t1 - t0);
      execMs.push(t2 - t1);
    }
    console.log(`${host.name}: SSH connect ${fmt(connectMs)}, first exec ${fmt(execMs)} (${rounds} rounds)`);
  }
  const perHost = new Map<string, number[]>();
  for (let i = 0; i < rounds; i++) {
    const connections = new HostConnections(lab, environment);
    const report = await preflightLab(lab, connections);
    await connections.closeAll();
    for (const h of report.hosts) perHost.set(h.host, [...(perHost.get(h.host) ?? []), h.durationMs]);
  }
  for (const [host, ms] of perHost) console.log(`${host}: preflight (connect, facts, clock) ${fmt(ms)}`);
}

function fmt(values: number[]): string {
  return `best ${Math.min(...values).toFixed(1)} ms, median ${percentile(values, 50).toFixed(1)} ms`;
}

await main();
