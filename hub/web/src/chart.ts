// Detections per hour by class: a stacked bar chart drawn as SVG (no chart library: ~150 lines, no
// canvas — screen readers get a summary and the numbers as a table, and CSS styles it).
import { h, setChildren, svg } from './dom';
import { classColor, classLabel, KNOWN_CLASSES } from './format';
import type { HourlyRow } from './types';

const HOUR = 3_600_000;
const W = 720;
const H = 240;
const M = { top: 12, right: 12, bottom: 40, left: 44 };

export interface Buckets {
  /** Bucket length: an hour, or a day for ranges over 3 days. */
  sizeMs: number;
  starts: number[];
  classes: string[];
  /** counts[bucket][class index] */
  counts: number[][];
}

/** Sums the hourly rows (every vehicle) into buckets over [from, to), by class. */
export function bucketize(rows: readonly HourlyRow[], fromIso: string, toIso: string): Buckets {
  const from = Math.floor(Date.parse(fromIso) / HOUR) * HOUR;
  const to = Date.parse(toIso);
  const sizeMs = to - from > 72 * HOUR ? 24 * HOUR : HOUR;
  const n = Math.max(1, Math.ceil((to - from) / sizeMs));
  const seen = new Set(rows.map((r) => r.class));
  const classes = [...KNOWN_CLASSES.map((c) => c.code).filter((c) => seen.has(c)), ...[...seen].filter((c) => !KNOWN_CLASSES.some((k) => k.code === c)).sort()];
  const counts = Array.from({ length: n }, () => classes.map(() => 0));
  for (const row of rows) {
    const i = Math.floor((Date.parse(row.hour) - from) / sizeMs);
    if (i < 0 || i >= n) continue;
    counts[i]![classes.indexOf(row.class)]! += row.events;
  }
  return { sizeMs, starts: Array.from({ length: n }, (_, i) => from + i * sizeMs), classes, counts };
}

/** A round axis maximum at or above `max`. */
export function niceMax(max: number): number {
  if (max <= 4) return Math.max(1, max);
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * magnitude >= max) return m * magnitude;
  return 10 * magnitude;
}

const hourFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

/** Draws the chart, its legend, a one-line summary and the numbers as a table into `root`. */
export function renderHourlyChart(root: HTMLElement, rows: readonly HourlyRow[], fromIso: string, toIso: string, title: HTMLElement): void {
  const b = bucketize(rows, fromIso, toIso);
  const unit = b.sizeMs === HOUR ? 'hour' : 'day';
  title.textContent = `Detections per ${unit} by class`;
  const totals = b.counts.map((c) => c.reduce((x, y) => x + y, 0));
  const total = totals.reduce((x, y) => x + y, 0);
  const label = (start: number) => (unit === 'hour' ? fullFormat.format(start) : dayFormat.format(start));
  if (total === 0) {
    setChildren(root, h('p', { class: 'chart-empty' }, 'No detections in this time range.'));
    return;
  }
  const peak = totals.indexOf(Math.max(...totals));
  const summary = `${total} detection${total === 1 ? '' : 's'} in the range; the most, ${totals[peak]}, in the ${unit} from ${label(b.starts[peak]!)}. ${b.classes
    .map((c, k) => `${classLabel(c)}: ${b.counts.reduce((s, row) => s + row[k]!, 0)}`)
    .join(', ')}.`;

  const yMax = niceMax(Math.max(...totals));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const step = plotW / b.starts.length;
  const barW = Math.max(1, step * 0.8);
  const y = (v: number) => M.top + plotH - (v / yMax) * plotH;

  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-summary', preserveAspectRatio: 'xMidYMid meet' });
  for (const v of [0, yMax / 2, yMax]) {
    chart.append(svg('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v), class: v === 0 ? 'axis' : 'gridline' }));
    chart.append(svg('text', { x: M.left - 6, y: y(v) + 4, class: 'tick tick-y' }, Number.isInteger(v) ? v : v.toFixed(1)));
  }
  const every = Math.ceil(b.starts.length / 8);
  b.starts.forEach((start, i) => {
    let base = 0;
    b.classes.forEach((cls, k) => {
      const n = b.counts[i]![k]!;
      if (n === 0) return;
      const rect = svg('rect', { x: M.left + i * step + (step - barW) / 2, y: y(base + n), width: barW, height: Math.max(0.5, y(base) - y(base + n)), 'data-class': cls });
      rect.style.fill = classColor(cls);
      rect.append(svg('title', {}, `${label(start)}: ${n} × ${classLabel(cls)}`));
      chart.append(rect);
      base += n;
    });
    if (i % every === 0 && M.left + i * step + step / 2 < W - M.right - 26) {
      const text = unit === 'hour' ? hourFormat.format(start) : dayFormat.format(start);
      chart.append(svg('text', { x: M.left + i * step + step / 2, y: H - M.bottom + 18, class: 'tick tick-x' }, text));
    }
  });

  const legend = h('ul', { class: 'legend', 'aria-label': 'Classes' }, ...b.classes.map((c) => {
    const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
    swatch.style.background = classColor(c);
    return h('li', {}, swatch, classLabel(c));
  }));
  const table = h(
    'table',
    { class: 'chart-table' },
    h('caption', {}, `Detections per ${unit} by class`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, unit === 'hour' ? 'Hour' : 'Day'), ...b.classes.map((c) => h('th', { scope: 'col' }, classLabel(c))), h('th', { scope: 'col' }, 'Total'))),
    h(
      'tbody',
      {},
      ...b.starts.flatMap((start, i) => (totals[i] === 0 ? [] : [h('tr', {}, h('th', { scope: 'row' }, label(start)), ...b.counts[i]!.map((n) => h('td', {}, n)), h('td', {}, totals[i]!))])),
    ),
  );
  setChildren(
    root,
    h('p', { id: 'chart-summary', class: 'summary' }, summary),
    h('figure', { class: 'chart-figure' }, chart, h('figcaption', {}, legend)),
    h('details', {}, h('summary', {}, 'Show the numbers'), h('div', { class: 'table-wrap' }, table)),
  );
}
