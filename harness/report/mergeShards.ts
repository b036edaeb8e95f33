import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ReportError } from './ReportError.js';
import { RESULTS_FORMAT_VERSION, type Artifact, type RunResults, type TestResult } from './RunResults.js';

export interface ShardRun {
  readonly runDir: string;
  readonly results: RunResults;
}

/**
 * Combines shard runs (`hil run --shard i/n` on parallel CI jobs, design.md §8) into one run.
 * Each shard's artifacts are copied under shards/<runId>/ of the merged folder, so the merged
 * report stands alone when CI keeps only it. Refuses shards of different labs or shard counts,
 * a shard given twice, and a test that two shards both ran.
 */
export function mergeShards(shards: readonly ShardRun[], mergedRunId: string, mergedRunDir: string): RunResults {
  if (shards.length === 0) throw new ReportError('MERGE_NOTHING', 'hil report --merge needs at least one run id');
  const first = shards[0]!.results;
  const problems: string[] = [];
  for (const { results } of shards) {
    if (results.lab.name !== first.lab.name) problems.push(`${results.runId} ran on lab "${results.lab.name}", ${first.runId} on "${first.lab.name}"`);
    if ((results.shard?.count ?? null) !== (first.shard?.count ?? null)) problems.push(`${results.runId} is shard ${describeShard(results)}, ${first.runId} is shard ${describeShard(first)}: merge shards of one split`);
  }
  const seenIndex = new Map<number, string>();
  for (const { results } of shards) {
    if (results.shard === null) continue;
    const other = seenIndex.get(results.shard.index);
    if (other !== undefined) problems.push(`${results.runId} and ${other} are both shard ${describeShard(results)}`);
    seenIndex.set(results.shard.index, results.runId);
  }
  const owner = new Map<string, string>();
  for (const { results } of shards) {
    for (const test of results.tests) {
      const other = owner.get(test.id);
      if (other !== undefined) problems.push(`test "${test.id}" is in both ${other} and ${results.runId}`);
      owner.set(test.id, results.runId);
    }
  }
  if (problems.length > 0) throw new ReportError('MERGE_CONFLICT', `Cannot merge ${shards.map((s) => s.results.runId).join(', ')}:\n  ${problems.join('\n  ')}`, { data: { problems } });

  const count = first.shard?.count ?? null;
  const missing = count === null ? [] : Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seenIndex.has(i));
  const tests: TestResult[] = [];
  for (const { runDir, results } of shards) {
    const prefix = `shards/${results.runId}`;
    if (existsSync(join(runDir, 'artifacts'))) cpSync(join(runDir, 'artifacts'), join(mergedRunDir, prefix, 'artifacts'), { recursive: true });
    const moved = (path: string) => `${prefix}/${path}`;
    for (const test of results.tests) {
      tests.push({
        ...test,
        artifacts: test.artifacts.map((a): Artifact => ({ ...a, path: moved(a.path) })),
        migrations: test.migrations.map((m) => ({ ...m, recordArtifact: moved(m.recordArtifact) })),
      });
    }
  }
  const pairs = new Set(shards.map((s) => JSON.stringify(s.results.pair)));
  const ends = shards.map((s) => s.results.endedAt);
  const startedAt = shards.map((s) => s.results.startedAt).sort()[0]!;
  return {
    formatVersion: RESULTS_FORMAT_VERSION,
    runId: mergedRunId,
    lab: first.lab,
    pair: pairs.size === 1 ? first.pair : null,
    harnessVersion: first.harnessVersion,
    commandLine: first.commandLine,
    startedAt,
    endedAt: ends.includes(null) ? null : (ends as string[]).sort()[ends.length - 1]!,
    // A merge with a shard missing or cut short is not the whole run, and says so.
    isComplete: missing.length === 0 && shards.every((s) => s.results.isComplete),
    hosts: shards.flatMap((s) => s.results.hosts.filter((h, i, all) => all.findIndex((x) => x.host === h.host) === i))
      .filter((h, i, all) => all.findIndex((x) => x.host === h.host) === i),
    shard: null,
    mergedFrom: shards.map(({ results }) => ({
      runId: results.runId, shard: results.shard, pair: results.pair, startedAt: results.startedAt, endedAt: results.endedAt, isComplete: results.isComplete,
    })),
    ...(first.measurementUnits !== undefined ? { measurementUnits: first.measurementUnits } : {}),
    tests,
  };
}

/** Shard indexes (1-based) that a merge of these runs lacks. */
export function missingShards(results: RunResults): number[] {
  const merged = results.mergedFrom ?? [];
  const count = merged[0]?.shard?.count;
  if (count === undefined) return [];
  return Array.from({ length: count }, (_, i) => i + 1).filter((i) => !merged.some((m) => m.shard?.index === i));
}

function describeShard(results: RunResults): string {
  return results.shard === null ? '(none: a whole run)' : `${results.shard.index}/${results.shard.count}`;
}
