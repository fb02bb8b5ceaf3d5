// Presentation of an evaluation: the console table, metrics.json, and the model card's metrics section.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { EvalSummary } from './metrics.js';

export interface Target {
  name: string;
  /** Class name, or null for the overall mAP. */
  class: string | null;
  min: number;
}

/** The targets: mAP@0.5 ≥ 0.7 for potholes, ≥ 0.5 over all classes. */
export const TARGETS: readonly Target[] = [
  { name: 'D40 AP@0.5', class: 'D40', min: 0.7 },
  { name: 'overall mAP@0.5', class: null, min: 0.5 },
];

export interface TargetResult extends Target {
  value: number | null;
  met: boolean;
}

export function checkTargets(summary: EvalSummary, classes: readonly string[]): TargetResult[] {
  return TARGETS.map((t) => {
    const value = t.class === null ? summary.overall.map : (summary.perClass[classes.indexOf(t.class)]?.ap ?? null);
    return { ...t, value, met: value !== null && value >= t.min };
  });
}

const f3 = (v: number | null): string => (v === null ? '—' : v.toFixed(3));

interface Row {
  class: string;
  name: string;
  labels: number;
  found: number;
  p: string;
  r: string;
  ap: string;
}

function rows(summary: EvalSummary, classes: readonly string[], names: Readonly<Record<string, string>>): Row[] {
  const perClass = summary.perClass.map((m) => ({
    class: classes[m.classIndex] ?? String(m.classIndex),
    name: names[classes[m.classIndex] ?? ''] ?? '',
    labels: m.truths,
    found: m.tp + m.fp,
    p: f3(m.precision),
    r: f3(m.recall),
    ap: f3(m.ap),
  }));
  const o = summary.overall;
  return [...perClass, { class: 'all', name: '', labels: o.truths, found: o.tp + o.fp, p: f3(o.precision), r: f3(o.recall), ap: f3(o.map) }];
}

const HEAD = ['class', 'name', 'labels', 'detections', 'P', 'R', 'AP@0.5'] as const;

export function consoleTable(summary: EvalSummary, classes: readonly string[], names: Readonly<Record<string, string>> = {}): string {
  const cells = [HEAD as readonly string[], ...rows(summary, classes, names).map((r) => [r.class, r.name, String(r.labels), String(r.found), r.p, r.r, r.ap])];
  const widths = HEAD.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function markdownTable(summary: EvalSummary, classes: readonly string[], names: Readonly<Record<string, string>> = {}): string {
  const line = (c: readonly (string | number)[]) => `| ${c.join(' | ')} |`;
  return [
    line(HEAD),
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows(summary, classes, names).map((r) => line([r.class === 'all' ? '**all**' : r.class, r.name, r.labels, r.found, r.p, r.r, r.class === 'all' ? `**${r.ap}**` : r.ap])),
  ].join('\n');
}

export function targetLines(results: readonly TargetResult[]): string[] {
  return results.map((t) => `${t.name} ${f3(t.value)} (target ≥ ${t.min.toFixed(2)}): ${t.met ? 'met' : 'MISSED'}`);
}

export const CARD_START = '<!-- metrics -->';
export const CARD_END = '<!-- /metrics -->';

/**
 * Replaces what lies between the card's metrics markers. A card without the markers gets a
 * "Metrics" section with them appended at its end. Returns the new text.
 */
export function withMetricsSection(card: string, body: string): string {
  const section = `${CARD_START}\n${body.trim()}\n${CARD_END}`;
  const from = card.indexOf(CARD_START);
  const to = card.indexOf(CARD_END, from + CARD_START.length);
  if (from >= 0 && to > from) return card.slice(0, from) + section + card.slice(to + CARD_END.length);
  return `${card.trimEnd()}\n\n## Metrics\n\n${section}\n`;
}

/** Writes the section into the card if the card exists; returns whether it did. */
export function updateModelCard(path: string, body: string): boolean {
  if (!existsSync(path)) return false;
  writeFileSync(path, withMetricsSection(readFileSync(path, 'utf8'), body));
  return true;
}
