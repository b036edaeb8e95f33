/*
 * Runs IN THE REPORT PAGE (not in node): draws the plots from the JSON embedded in the page with
 * uPlot, which the page carries inline. The generator inlines the compiled file (see
 * inlineAssets.ts); it must not import anything at run time.
 */
import type uPlotType from 'uplot';
import type { DistributionData, OutageTimeline, PageData, TimelineData, TrendChartData } from './PageData.js';

type Plot = uPlotType;
type Options = uPlotType.Options;
type AlignedData = uPlotType.AlignedData;

const UPlot = (globalThis as unknown as { uPlot: typeof uPlotType }).uPlot;
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const EVENT_COLOURS: Readonly<Record<string, string>> = { STOP: '#d62728', RESUME: '#2ca02c', VFIO_MIGRATION: '#9467bd', MIGRATION: '#555', MIGRATION_PASS: '#bbb' };
/** The outage's parts: before STOP, the pause, after RESUME until the first reply. */
const OUTAGE_PART_COLOURS = ['#ff7f0e', '#d62728', '#1f77b4'] as const;

/**
 * The outage enlarged in the plot's top-right corner, on one axis: the probe's replies (controller),
 * the source's STOP and the destination's RESUME (each host's clock moved by its offset), and the
 * three parts as a bar. The whole migration can last seconds and the outage a tenth of that.
 */
function drawOutageInset(ctx: CanvasRenderingContext2D, bbox: { left: number; top: number; width: number }, outage: OutageTimeline, replyMs: readonly number[]): void {
  const d = devicePixelRatio;
  const width = Math.min(bbox.width * 0.45, 420 * d);
  const height = 62 * d;
  // Left of centre: the switchover, drawn at full scale, is usually near the right end.
  const left = bbox.left + bbox.width * 0.12;
  const top = bbox.top + 4 * d;
  const margin = Math.max(outage.resolutionMs * 3, (outage.endMs - outage.startMs) * 0.1);
  const fromMs = Math.min(outage.startMs, outage.stopMs) - margin;
  const toMs = Math.max(outage.endMs, outage.resumeMs) + margin;
  const x = (ms: number) => left + ((ms - fromMs) / (toMs - fromMs)) * width;
  ctx.fillStyle = 'rgba(255, 255, 255, 0.95)';
  ctx.strokeStyle = '#999';
  ctx.lineWidth = d;
  ctx.setLineDash([]);
  ctx.fillRect(left, top, width, height);
  ctx.strokeRect(left, top, width, height);
  const barTop = top + 22 * d;
  const parts: [number, number][] = [[outage.startMs, Math.max(outage.startMs, outage.stopMs)], [outage.stopMs, outage.resumeMs], [Math.min(outage.resumeMs, outage.endMs), outage.endMs]];
  parts.forEach(([from, to], i) => {
    ctx.fillStyle = OUTAGE_PART_COLOURS[i]!;
    ctx.fillRect(x(from), barTop, Math.max(d, x(to) - x(from)), 12 * d);
  });
  ctx.strokeStyle = '#2ca02c';
  for (const ms of replyMs.filter((t) => t >= fromMs && t <= toMs)) {
    ctx.beginPath();
    ctx.moveTo(x(ms), barTop + 16 * d);
    ctx.lineTo(x(ms), barTop + 24 * d);
    ctx.stroke();
  }
  ctx.lineWidth = 2 * d;
  for (const [ms, colour, dash] of [[outage.stopMs, '#d62728', false], [outage.resumeMs, '#2ca02c', true]] as const) {
    ctx.strokeStyle = colour;
    ctx.setLineDash(dash ? [4 * d, 3 * d] : []);
    ctx.beginPath();
    ctx.moveTo(x(ms), barTop - 6 * d);
    ctx.lineTo(x(ms), barTop + 26 * d);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.font = `${10 * d}px sans-serif`;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillStyle = '#666';
  ctx.fillText(`${Math.round(fromMs)} ms`, left + 4 * d, top + height - 4 * d);
  ctx.textAlign = 'right';
  ctx.fillText(`${Math.round(toMs)} ms`, left + width - 4 * d, top + height - 4 * d);
  ctx.textAlign = 'left';
  ctx.fillStyle = outage.flags.length > 0 ? '#d62728' : '#222';
  const f = (ms: number) => ms.toFixed(1);
  ctx.fillText(`outage ${f(outage.outageMs)} = ${f(outage.beforeStopMs)} + ${f(outage.pauseMs)} + ${f(outage.afterResumeMs)} ms (±${f(outage.resolutionMs)})${outage.flags.length > 0 ? ` ⚠ ${outage.flags.map((flag) => flag.code).join(', ')}` : ''}`, left + 4 * d, top + 13 * d);
}

function plotWidth(element: HTMLElement): number {
  // Plots inside closed <details> have no layout width yet: size them from the page instead.
  const width = element.clientWidth > 0 ? element.clientWidth : document.body.clientWidth - 80;
  return Math.max(360, Math.min(1000, width));
}

function mount(elementId: string): HTMLElement | null {
  const element = document.getElementById(elementId);
  if (element === null) console.warn(`report: no element #${elementId} for a plot`);
  return element;
}

/** RAM transferred/remaining from the 10 Hz query-migrate samples, events as markers, the probe gap. */
function drawTimeline(data: TimelineData): void {
  const element = mount(data.elementId);
  if (element === null) return;
  const xs = data.samples.map((s) => s.tMs);
  const aligned: AlignedData = xs.length > 0
    ? [xs, data.samples.map((s) => s.transferredMiB), data.samples.map((s) => s.remainingMiB)]
    : [[0, data.endMs], [null, null], [null, null]];
  const overlay = (u: Plot): void => {
    const ctx = u.ctx;
    const top = u.bbox.top;
    const height = u.bbox.height;
    const x = (ms: number) => u.valToPos(ms, 'x', true);
    ctx.save();
    if (data.probe !== null && data.probe.gapStartMs !== null && data.probe.gapEndMs !== null) {
      ctx.fillStyle = 'rgba(214, 39, 40, 0.12)';
      ctx.fillRect(x(data.probe.gapStartMs), top, x(data.probe.gapEndMs) - x(data.probe.gapStartMs), height);
    }
    if (data.probe !== null) {
      ctx.strokeStyle = '#2ca02c';
      ctx.lineWidth = devicePixelRatio;
      for (const replyMs of data.probe.replyMs) {
        ctx.beginPath();
        ctx.moveTo(x(replyMs), top + height);
        ctx.lineTo(x(replyMs), top + height - 6 * devicePixelRatio);
        ctx.stroke();
      }
    }
    ctx.font = `${10 * devicePixelRatio}px sans-serif`;
    let labelRow = 0;
    for (const event of data.events) {
      ctx.strokeStyle = EVENT_COLOURS[event.name] ?? '#555';
      ctx.lineWidth = (event.name === 'STOP' || event.name === 'RESUME' ? 2 : 1) * devicePixelRatio;
      ctx.setLineDash(event.side === 'destination' ? [4 * devicePixelRatio, 3 * devicePixelRatio] : []);
      ctx.beginPath();
      ctx.moveTo(x(event.tMs), top);
      ctx.lineTo(x(event.tMs), top + height);
      ctx.stroke();
      // Destination status changes mirror the source's; their dashed lines suffice, labels would pile up.
      if (event.name !== 'MIGRATION_PASS' && !(event.side === 'destination' && event.name === 'MIGRATION')) {
        ctx.fillStyle = ctx.strokeStyle;
        // Events come in bursts (STOP, device, completed within ms): stagger the labels.
        ctx.fillText(`${event.name === 'MIGRATION' ? event.detail : event.name}${event.side === 'destination' ? ' (dst)' : ''}`, x(event.tMs) + 3 * devicePixelRatio, top + (12 + 11 * (labelRow++ % 6)) * devicePixelRatio);
      }
    }
    ctx.setLineDash([]);
    for (const hook of data.hooks) {
      ctx.fillStyle = '#ff7f0e';
      ctx.fillRect(x(hook.tMs) - 3 * devicePixelRatio, top, 6 * devicePixelRatio, 6 * devicePixelRatio);
    }
    if (data.outage !== null) drawOutageInset(ctx, u.bbox, data.outage, data.probe?.replyMs ?? []);
    ctx.restore();
  };
  const options: Options = {
    width: plotWidth(element), height: 220,
    scales: { x: { time: false, range: (_u, min, max) => [Math.min(0, min), Math.max(data.endMs, max)] } },
    axes: [{ label: 'ms since migrate', size: 40 }, { label: 'MiB', size: 60 }],
    series: [
      { label: 'ms' },
      { label: 'RAM transferred', stroke: PALETTE[0], width: 2, points: { show: true, size: 4 } },
      { label: 'RAM remaining', stroke: PALETTE[4], width: 2, points: { show: true, size: 4 } },
    ],
    hooks: { draw: [overlay] },
  };
  new UPlot(options, aligned, element);
}

/** Empirical CDF of each series: every migration is a step, p50 and p95 are where the steps cross the guides. */
function drawDistribution(data: DistributionData): void {
  const element = mount(data.elementId);
  if (element === null) return;
  const series = data.series.filter((s) => s.values.length > 0);
  const xs = [...new Set(series.flatMap((s) => s.values))].sort((a, b) => a - b);
  if (xs.length === 0) return;
  const sorted = series.map((s) => [...s.values].sort((a, b) => a - b));
  const ys = sorted.map((values) => xs.map((x) => values.filter((v) => v <= x).length / values.length));
  const guides = (u: Plot): void => {
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = '#999';
    ctx.fillStyle = '#666';
    ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.font = `${10 * devicePixelRatio}px sans-serif`;
    for (const [q, label] of [[0.5, 'p50'], [0.95, 'p95']] as const) {
      const y = u.valToPos(q, 'y', true);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.fillText(label, u.bbox.left + 4 * devicePixelRatio, y - 3 * devicePixelRatio);
    }
    ctx.restore();
  };
  const step = UPlot.paths.stepped!({ align: 1 });
  const options: Options = {
    width: plotWidth(element), height: 240,
    scales: { x: { time: false }, y: { range: [0, 1.02] } },
    axes: [{ label: data.unit, size: 40 }, { label: 'fraction ≤ x', size: 60 }],
    series: [
      { label: data.unit },
      ...series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, paths: step, points: { show: true, size: 5 } })),
    ],
    hooks: { draw: [guides] },
  };
  new UPlot(options, [xs, ...ys] as AlignedData, element);
}

/** p50 (dashed) and p95 (solid) of each cell over the last runs. */
function drawTrend(data: TrendChartData): void {
  const element = mount(data.elementId);
  if (element === null) return;
  const xs = data.runIds.map((_, i) => i);
  const series: uPlotType.Series[] = [{ label: 'run', value: (_u, v) => (v === null ? '' : data.runIds[v] ?? '') }];
  const values: (number | null)[][] = [];
  data.cells.forEach((cell, i) => {
    const colour = PALETTE[i % PALETTE.length];
    series.push({ label: `${cell.key} p95`, stroke: colour, width: 2, spanGaps: true, points: { show: true, size: 5 } });
    series.push({ label: `${cell.key} p50`, stroke: colour, width: 1, dash: [5, 4], spanGaps: true, points: { show: true, size: 4 } });
    values.push([...cell.p95], [...cell.p50]);
  });
  const options: Options = {
    width: plotWidth(element), height: 260,
    scales: { x: { time: false, range: [-0.2, Math.max(1, xs.length - 1) + 0.2] } },
    axes: [
      { label: 'run', size: 50, splits: () => xs, values: (_u, splits) => splits.map((s) => (data.runIds[s] ?? '').slice(0, 15)) },
      { label: `${data.metric}`, size: 60 },
    ],
    series,
  };
  new UPlot(options, [xs, ...values] as AlignedData, element);
}

function drawAll(): void {
  const holder = document.getElementById('hil-data');
  if (holder === null || holder.textContent === null) return;
  const data = JSON.parse(holder.textContent) as PageData;
  data.timelines.forEach(drawTimeline);
  data.distributions.forEach(drawDistribution);
  if (data.trend !== null) drawTrend(data.trend);
  document.body.dataset['plotsDrawn'] = String(document.querySelectorAll('.uplot canvas').length);
}

drawAll();
