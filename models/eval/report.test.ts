import { describe, expect, it } from 'vitest';
import { evaluateDetections } from './metrics.js';
import { checkTargets, consoleTable, withMetricsSection } from './report.js';

describe('withMetricsSection', () => {
  it('replaces only what lies between the markers', () => {
    const card = '# Model\n\nintro\n\n## Metrics\n\n<!-- metrics -->\nold table\n<!-- /metrics -->\n\n## Use your own\n';
    expect(withMetricsSection(card, 'new table\n')).toBe('# Model\n\nintro\n\n## Metrics\n\n<!-- metrics -->\nnew table\n<!-- /metrics -->\n\n## Use your own\n');
  });

  it('appends a marked section to a card without markers', () => {
    expect(withMetricsSection('# Model\n\nintro\n', 'table')).toBe('# Model\n\nintro\n\n## Metrics\n\n<!-- metrics -->\ntable\n<!-- /metrics -->\n');
  });
});

describe('targets and table', () => {
  const classes = ['D00', 'D10', 'D20', 'D40'];
  const box = [0, 0, 10, 10] as const;
  // D40 found once out of one; D00 missed: mAP = (0 + 1) / 2.
  const summary = evaluateDetections(
    [
      {
        truths: [
          { classIndex: 3, box },
          { classIndex: 0, box: [50, 50, 60, 60] },
        ],
        predictions: [{ classIndex: 3, confidence: 0.9, box }],
      },
    ],
    { numClasses: 4 },
  );

  it('checks D40 AP ≥ 0.7 and overall mAP ≥ 0.5', () => {
    expect(checkTargets(summary, classes).map((t) => [t.name, t.value, t.met])).toEqual([
      ['D40 AP@0.5', 1, true],
      ['overall mAP@0.5', 0.5, true],
    ]);
  });

  it('prints one row per class and an "all" row, with — for a class without labels', () => {
    const lines = consoleTable(summary, classes).split('\n');
    expect(lines[0]).toMatch(/^class\s+name\s+labels\s+detections\s+P\s+R\s+AP@0\.5$/);
    expect(lines[2]).toMatch(/^D10\s+0\s+0\s+0\.000\s+0\.000\s+—$/);
    expect(lines[4]).toMatch(/^D40\s+1\s+1\s+1\.000\s+1\.000\s+1\.000$/);
    expect(lines[5]).toMatch(/^all\s+2\s+1\s+1\.000\s+0\.500\s+0\.500$/);
  });
});
