/**
 * Prints, per migration of one or more runs, the guest outage cut at source STOP and destination
 * RESUME (harness/migration/outageBreakdown.ts), then per run the spread of each part. Reads the
 * runs' MigrationRecord artifacts, so it works on runs made before the breakdown was recorded.
 *
 *   node dist/bench/outageBreakdown.js reports/<runId> [reports/<runId> ...]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { outageBreakdown } from '../harness/migration/outageBreakdown.js';
import { summarize } from '../harness/measure/statistics.js';
import type { MigrationRecord } from '../harness/migration/MigrationRecord.js';

function recordFiles(runDir: string): string[] {
  const artifacts = join(runDir, 'artifacts');
  return readdirSync(artifacts).sort().flatMap((test) => readdirSync(join(artifacts, test))
    .filter((f) => f.endsWith('.migration.json')).sort((a, b) => Number(a.slice(1, -15)) - Number(b.slice(1, -15))).map((f) => join(artifacts, test, f)));
}

function figures(label: string, values: number[]): string {
  if (values.length === 0) return `${label}: none`;
  const s = summarize(values);
  return `${label}: min ${s.min.toFixed(1)}  p50 ${s.p50.toFixed(1)}  p95 ${s.p95.toFixed(1)}  max ${s.max.toFixed(1)} ms`;
}

for (const runDir of process.argv.slice(2)) {
  console.log(`${runDir}`);
  const parts = { before: [] as number[], pause: [] as number[], after: [] as number[], outage: [] as number[] };
  for (const file of recordFiles(runDir)) {
    const record = JSON.parse(readFileSync(file, 'utf8')) as MigrationRecord;
    if (record.outcome !== 'completed') continue;
    const b = outageBreakdown(record);
    if (b === null) continue;
    parts.before.push(b.beforeStopMs); parts.pause.push(b.pauseMs); parts.after.push(b.afterResumeMs); parts.outage.push(b.outageMs);
    const announce = ['announce-initial', 'announce-step', 'announce-rounds'].filter((p) => record.parameters[p] !== undefined).map((p) => `${p} ${record.parameters[p]}`).join(', ');
    console.log(`  ${record.id.padEnd(4)} outage ${b.outageMs.toFixed(1).padStart(6)} = before STOP ${b.beforeStopMs.toFixed(1).padStart(5)} + pause ${b.pauseMs.toFixed(1).padStart(6)} + after RESUME ${b.afterResumeMs.toFixed(1).padStart(6)} ms (±${b.resolutionMs} ms)${announce === '' ? '' : ` [${announce}]`}${b.flags.map((f) => ` ${f.code}`).join('')}`);
  }
  console.log(`  ${figures('outage      ', parts.outage)}`);
  console.log(`  ${figures('before STOP ', parts.before)}`);
  console.log(`  ${figures('pause       ', parts.pause)}`);
  console.log(`  ${figures('after RESUME', parts.after)}`);
}
