import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianTool } from '../../../test/support/debianTool.js';
import { inspectInChromium, type PageInspection } from '../../../test/support/inspectInChromium.js';
import { cellLabels, syntheticRun, writeSyntheticRun } from '../../../test/support/syntheticRun.js';
import { loadRunResults } from '../runFolders.js';
import { writeRunReports } from '../writeRunReports.js';
import { renderComparePage } from './renderComparePage.js';

const VIRTIO = cellLabels('virtio-net-pci', 'none');
const IOMMU = cellLabels('virtio-net-pci', 'intel-iommu');

/** Two nights of a synthetic lab: the second regresses in one cell (12 migrations each), fails a test, and has too few migrations in another cell to judge it. */
function writeNights(reportsDir: string): { first: string; second: string } {
  const first = syntheticRun('20260101-020000-aaaa', '2026-01-01T02:00:00.000Z', [
    { title: 'virtio ping-pong', outcome: 'PASS', labels: VIRTIO, downtimesMs: [20, 22, 25, 24, 21, 23, 22, 20, 24, 25, 21, 23] },
    { title: 'iommu ping-pong', outcome: 'PASS', labels: IOMMU, downtimesMs: [30, 31, 29, 33] },
    { title: 'vfio blocked domain', outcome: 'SKIP', labels: cellLabels('vfio-pci', 'intel-iommu') },
  ]);
  const second = syntheticRun('20260102-020000-bbbb', '2026-01-02T02:00:00.000Z', [
    { title: 'virtio ping-pong', outcome: 'PASS', labels: VIRTIO, downtimesMs: [40, 45, 60, 80, 55, 50, 48, 70, 65, 52, 58, 62] },
    { title: 'iommu ping-pong', outcome: 'FAIL', labels: IOMMU, downtimesMs: [30, 400], error: 'downtime 400 ms is above the 300 ms limit </script><b>x</b>' },
    { title: 'lab went away', outcome: 'ERROR', error: 'SSH connection to root@10.0.0.1:22 lost' },
    { title: 'migration blocked as expected', outcome: 'PASS', labels: cellLabels('vfio-pci', 'none'), isBlocked: true },
    { title: 'vfio blocked domain', outcome: 'SKIP', labels: cellLabels('vfio-pci', 'intel-iommu') },
  ]);
  writeSyntheticRun(reportsDir, first);
  writeSyntheticRun(reportsDir, second);
  return { first: join(reportsDir, first.runId), second: join(reportsDir, second.runId) };
}

function expectDrawn(page: PageInspection, kinds: Record<string, number>): void {
  expect(page.consoleProblems, 'console errors and warnings').to.deep.equal([]);
  expect(page.outsideRequests, 'requests beyond the file').to.deep.equal([]);
  for (const [kind, count] of Object.entries(kinds)) expect(page.plots.filter((p) => p.kind === kind), kind).to.have.length(count);
  for (const plot of page.plots) {
    expect(plot.canvases, `${plot.id} canvas`).to.equal(1);
    // Axes and grid alone paint a few thousand pixels; the series and markers add more.
    expect(plot.paintedPixels, `${plot.id} painted pixels`).to.be.greaterThan(3000);
  }
}

describe('index.html and the compare page in headless Chromium (no network)', function () {
  let dir: string;
  let chromiumPath: string;
  before(function () {
    const tool = debianTool('chromium', 'chromium');
    if ('reason' in tool) {
      console.log(`      skipped: ${tool.reason}`);
      this.skip();
    }
    chromiumPath = tool.path;
    dir = mkdtempSync(join(tmpdir(), 'hil-pages-'));
  });
  after(() => { if (dir !== undefined) rmSync(dir, { recursive: true, force: true }); });

  it('draws the timelines, distributions and trend, failures first, with no console error', async () => {
    const runs = writeNights(dir);
    writeRunReports(runs.first, loadRunResults(runs.first), { reportsDir: dir });
    const written = writeRunReports(runs.second, loadRunResults(runs.second), { reportsDir: dir });
    expect(written.regressions?.findings.filter((f) => f.isRegression).map((f) => f.kind)).to.deep.equal(['p95', 'outcome']);
    expect(written.regressions?.comparisons.map((c) => c.verdict)).to.deep.equal(['not-enough-data', 'regression']);
    const html = readFileSync(written.htmlFile, 'utf8');
    // Self-contained: no external script, style or image, and the error text stayed text.
    expect(html).to.not.match(/<script[^>]+src=|<link[^>]+stylesheet|<img[^>]+src="http/);
    expect(html).to.include('&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;');
    // The synthetic records' last reply comes 20 ms before STOP at 100 Hz: cut, and flagged.
    expect(html).to.match(/guest outage 450\.0 ms = before STOP 20\.0 \+ pause 400\.0 \+ after RESUME until the first reply \(network re-convergence\) 30\.0 ms, each ±10\.0 ms/);
    expect(html).to.match(/<p class="warn">OUTAGE_BEFORE_STOP: the guest stopped answering 20\.0 ms before the source&#39;s STOP/);
    const page = await inspectInChromium(chromiumPath, written.htmlFile, { page: join(dir, 'index.png'), firstOpenTest: join(dir, 'test.png') });
    // The blocked migration (no samples, no events) still gets its axes drawn.
    const blockedTimeline = `timeline-${loadRunResults(runs.second).tests.findIndex((t) => t.title === 'migration blocked as expected')}-0`;
    expect(page.plots.map((p) => p.id)).to.include(blockedTimeline);
    // 12 + 2 completed migrations and the blocked one.
    expectDrawn(page, { timeline: 15, distribution: 3, trend: 1 });
    expect(page.plotsDrawn).to.equal('19');
    // Each timeline shows STOP (red) and RESUME and the probe replies (green).
    for (const timeline of page.plots.filter((p) => p.kind === 'timeline' && p.id !== blockedTimeline)) {
      expect(timeline.redPixels, `${timeline.id} STOP marker`).to.be.greaterThan(50);
      expect(timeline.greenPixels, `${timeline.id} RESUME marker, probe replies`).to.be.greaterThan(50);
    }
    expect(page.sections.slice(0, 4)).to.deep.equal(['summary', 'failures', 'matrix', 'regressions']);
    expect(page.openFailures).to.equal(2);
    expect(statSync(join(dir, 'index.png')).size).to.be.greaterThan(20_000);
    expect(statSync(join(dir, 'test.png')).size).to.be.greaterThan(5_000);
  });

  it('the compare page puts two runs side by side per cell and draws both distributions', async () => {
    const runs = writeNights(join(dir, 'compare'));
    const file = join(dir, 'compare', 'compare.html');
    writeFileSync(file, renderComparePage({
      a: loadRunResults(runs.first), b: loadRunResults(runs.second), linkA: '20260101-020000-aaaa/', linkB: '20260102-020000-bbbb/',
      regression: { thresholdPercent: 20, minDeltaMs: 5, minSamples: 10, metrics: ['downtimeMs'] },
    }));
    const html = readFileSync(file, 'utf8');
    expect(html).to.include('Regression check against 20260101-020000-aaaa');
    expect(html).to.match(/<tr class="regression"><td>emulated \/ virtio-net-pci \/ none \/ 256 ▲/);
    const page = await inspectInChromium(chromiumPath, file, { page: join(dir, 'compare.png') });
    expectDrawn(page, { distribution: 2 });
    for (const plot of page.plots) expect(plot.redPixels, `${plot.id}: run B's series`).to.be.greaterThan(50);
  });
});
