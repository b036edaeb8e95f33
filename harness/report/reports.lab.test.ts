import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../measure/statistics.js';
import { projectRoot } from '../projectRoot.js';
import type { Trend } from './computeTrend.js';
import { debianTool } from '../../test/support/debianTool.js';
import { inspectInChromium } from '../../test/support/inspectInChromium.js';
import { junitXsdFiles, xmllint } from '../../test/support/junitXsd.js';
import { summarizeCells } from './matrixCells.js';
import { loadRunResults } from './runFolders.js';
import type { RunResults } from './RunResults.js';

interface Hil {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Reports from real runs on the virtual lab (which must be up: npm test brings it up): two shard
 * runs and their merge, a whole run, trend and regression check between them, the compare page,
 * regeneration; every junit.xml against the XSD, every results.json against the schema, every
 * page in headless Chromium. The runs go to a reports folder of their own, through a copy of
 * lab.yaml that only moves reportsDir, so the history seen here is only these runs'.
 */
describe('reports of real virtual-lab runs', function () {
  // Each step uses the runs of the steps before it.
  this.bail(true);
  const root = projectRoot();
  const labFile = join(root, `lab.reports-test-${process.pid}.yaml`);
  let reportsDir: string;
  const runs: Record<'shard1' | 'shard2' | 'merged' | 'whole', string> = { shard1: '', shard2: '', merged: '', whole: '' };

  const hil = (...args: string[]): Hil => {
    // CI=true and no TTY: the plain progress lines a CI log gets.
    const result = spawnSync(process.execPath, [join(root, 'bin', 'hil.js'), '--lab', labFile, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 600_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const runIdOf = (output: Hil): string => {
    const id = /^Run (\S+) on lab/m.exec(output.stdout)?.[1];
    if (id === undefined) throw new Error(`no run id in hil run output:\n${output.stdout}\n${output.stderr}`);
    return id;
  };
  const results = (runId: string): RunResults => loadRunResults(join(reportsDir, runId));

  before(function () {
    reportsDir = mkdtempSync(join(tmpdir(), 'hil-lab-reports-'));
    const lab = readFileSync(join(root, 'lab.yaml'), 'utf8');
    if (!/^ {2}reportsDir: .*$/m.test(lab)) throw new Error('lab.yaml has no "  reportsDir:" line to move');
    writeFileSync(labFile, lab.replace(/^ {2}reportsDir: .*$/m, `  reportsDir: ${reportsDir}`));
  });
  after(() => {
    if (existsSync(labFile)) unlinkSync(labFile);
    rmSync(reportsDir, { recursive: true, force: true });
  });

  it('hil run --shard 1/2 and 2/2 take disjoint halves, print plain progress, and write every report', () => {
    for (const [key, shard] of [['shard1', '1/2'], ['shard2', '2/2']] as const) {
      const out = hil('run', 'suites/migration/ping-pong.spec.ts', '--shard', shard);
      expect(out.status, `${out.stdout}\n${out.stderr}`).to.equal(0);
      runs[key] = runIdOf(out);
      expect(out.stdout).to.include(`Shard ${shard}: 2 of 4 tests`);
      expect(out.stdout).to.not.include('\u001b[');
      expect(out.stdout).to.match(/^ {6}m\d+ host-a→host-b (setup|active|device|completed)/m);
      expect(out.stdout).to.match(/^junit: {3}.*junit\.xml$/m);
      const r = results(runs[key]);
      expect(r.shard).to.deep.equal({ index: Number(shard[0]), count: 2 });
      expect(r.tests).to.have.length(2);
      expect(r.measurementUnits?.['downtimeMs']).to.equal('ms');
    }
    const ids = [...results(runs.shard1).tests, ...results(runs.shard2).tests].map((t) => t.id);
    expect(new Set(ids).size).to.equal(4);
  });

  it('hil report --merge combines the shards into one complete, valid run with its artifacts', () => {
    const out = hil('report', '--merge', runs.shard1, runs.shard2, '--out', `${runs.shard1}-merged`);
    expect(out.status, `${out.stdout}\n${out.stderr}`).to.equal(0);
    runs.merged = `${runs.shard1}-merged`;
    const merged = results(runs.merged);
    expect(merged.tests).to.have.length(4);
    expect(merged.isComplete).to.equal(true);
    expect(merged.mergedFrom?.map((m) => m.runId)).to.deep.equal([runs.shard1, runs.shard2]);
    for (const m of merged.tests.flatMap((t) => t.migrations)) expect(existsSync(join(reportsDir, runs.merged, m.recordArtifact)), m.recordArtifact).to.equal(true);
    // Skipped cells keep their labels: the matrix has all four (e1000e skips on the cloud guest kernel).
    const cells = summarizeCells(merged);
    expect(cells.map((c) => c.key)).to.deep.equal([
      'emulated / e1000e / intel-iommu / 256', 'emulated / e1000e / none / 256',
      'emulated / virtio-net-pci / intel-iommu / 256', 'emulated / virtio-net-pci / none / 256',
    ]);
    for (const cell of cells) expect(['PASS', 'SKIP'], cell.key).to.include(cell.outcome);
  });

  it('a whole run; the trend covers both whole runs, not the shards on their own', () => {
    const out = hil('run', 'suites/migration/ping-pong.spec.ts');
    expect(out.status, `${out.stdout}\n${out.stderr}`).to.equal(0);
    runs.whole = runIdOf(out);
    const trendOut = hil('report', 'trend', '--json');
    expect(trendOut.status, trendOut.stderr).to.equal(0);
    const trend = JSON.parse(trendOut.stdout) as Trend;
    expect(trend.runs.map((r) => r.runId)).to.deep.equal([runs.merged, runs.whole]);
    const virtio = trend.cells.find((c) => c.key === 'emulated / virtio-net-pci / none / 256')!;
    const expected = [runs.merged, runs.whole].map((id) => percentile(results(id).tests.flatMap((t) => t.migrations).filter((m) => m.labels['nic'] === 'virtio-net-pci' && m.labels['viommu'] === 'none').map((m) => m.measurements.downtimeMs!), 95));
    expect(virtio.points.map((p) => p?.p95)).to.deep.equal(expected);
    expect(virtio.passRate).to.equal(1);
    expect(hil('report', 'trend').stdout).to.match(/^emulated \/ virtio-net-pci \/ none \/ 256: pass rate 100 % of 2$/m);
  });

  it('hil report --check on two real runs: 4 migrations a cell is not enough data by default; judged anyway, it flags only cells whose p95 grew, and exits 1 for them', () => {
    const p95s = (runId: string) => new Map(summarizeCells(results(runId)).flatMap((c) => (c.summaries.downtimeMs === undefined ? [] : [[c.key, c.summaries.downtimeMs.p95] as const])));
    const measured = [...p95s(runs.whole).keys()].sort();
    expect(measured.length, 'cells with downtimes in the whole run').to.be.greaterThan(0);
    // Defaults: at least 10 migrations per cell in each run, so nothing is judged and nothing flagged.
    const byDefault = hil('report', runs.whole, '--check', '--baseline', runs.merged);
    expect(byDefault.status, byDefault.stdout).to.equal(0);
    expect(byDefault.stdout).not.to.match(/^ {2}REGRESSION /m);
    const notJudged = [...byDefault.stdout.matchAll(/^ {2}note (.+?): downtimeMs: not enough data \(\d+ → \d+ migrations, 10 needed in each run\)/gm)].map((m) => m[1]!).sort();
    expect(notJudged).to.deep.equal(measured);
    // Judged with 4 samples and no threshold, a cell is flagged only when the bootstrap interval
    // of its p95 change lies above zero: never a cell whose p95 did not grow.
    for (const [baseline, current] of [[runs.merged, runs.whole], [runs.whole, runs.merged]] as const) {
      const before = p95s(baseline);
      const grown = [...p95s(current)].filter(([key, p95]) => p95 > before.get(key)!).map(([key]) => key);
      const out = hil('report', current, '--check', '--baseline', baseline, '--threshold', '0', '--min-delta-ms', '0', '--min-samples', '4');
      const flagged = [...out.stdout.matchAll(/^ {2}REGRESSION (.+?): downtimeMs p95/gm)].map((m) => m[1]!).sort();
      expect(grown, out.stdout).to.include.members(flagged);
      expect(out.status, out.stdout).to.equal(flagged.length > 0 ? 1 : 0);
      expect(out.stdout).not.to.match(/not enough data/);
    }
    const lenient = hil('report', runs.whole, '--check', '--baseline', runs.merged, '--threshold', '10000', '--min-delta-ms', '10000');
    expect(lenient.status, lenient.stdout).to.equal(0);
    expect(lenient.stdout).to.include('no regression');
  });

  it('every results.json matches the schema and every junit.xml the JUnit XSD', function () {
    for (const id of Object.values(runs)) expect(results(id).runId).to.equal(id);
    const tool = debianTool('xmllint', 'libxml2-utils');
    if ('reason' in tool) {
      console.log(`      skipped the XSD part: ${tool.reason}`);
      this.skip();
    }
    const xsd = junitXsdFiles(reportsDir).withSkippedMessage;
    for (const id of Object.values(runs)) expect(xmllint(tool.path, xsd, join(reportsDir, id, 'junit.xml')), id).to.deep.equal({ isValid: true, errors: [] });
  });

  it('hil report <runId> regenerates junit.xml and index.html from results.json alone', () => {
    const junit = join(reportsDir, runs.whole, 'junit.xml');
    const before = readFileSync(junit, 'utf8');
    unlinkSync(junit);
    unlinkSync(join(reportsDir, runs.whole, 'index.html'));
    const out = hil('report', runs.whole);
    expect(out.status, out.stderr).to.equal(0);
    expect(readFileSync(junit, 'utf8')).to.equal(before);
    expect(existsSync(join(reportsDir, runs.whole, 'index.html'))).to.equal(true);
  });

  it('the real pages open in headless Chromium with every plot drawn and no console error', async function () {
    const tool = debianTool('chromium', 'chromium');
    if ('reason' in tool) {
      console.log(`      skipped: ${tool.reason}`);
      this.skip();
    }
    const compare = hil('report', '--compare', runs.merged, runs.whole);
    expect(compare.status, compare.stderr).to.equal(0);
    const pages = [join(reportsDir, runs.merged, 'index.html'), join(reportsDir, runs.whole, 'index.html'), /^comparison: (.*)$/m.exec(compare.stdout)![1]!];
    for (const file of pages) {
      const page = await inspectInChromium(tool.path, file, { page: join(reportsDir, 'shot.png') });
      expect(page.consoleProblems, file).to.deep.equal([]);
      expect(page.outsideRequests, file).to.deep.equal([]);
      expect(page.plots.length, file).to.be.greaterThan(0);
      for (const plot of page.plots) expect(plot.paintedPixels, `${file} ${plot.id}`).to.be.greaterThan(3000);
      const timelines = page.plots.filter((p) => p.kind === 'timeline');
      if (!file.includes('compare-')) {
        expect(timelines).to.have.length(8);
        for (const t of timelines) expect(t.redPixels, `${t.id}: STOP marker and probe gap`).to.be.greaterThan(20);
      }
    }
  });
});
