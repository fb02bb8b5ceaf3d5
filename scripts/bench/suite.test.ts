import { describe, expect, it } from 'vitest';
import { withSection } from './report.js';
import { BENCHMARKS, passThrough, select } from './suite.js';

describe('npm run bench: choosing the benchmarks', () => {
  it('runs all of them in the order of the issues by default, and honours --only and --skip', () => {
    expect(select({}).map((b) => b.name)).toEqual(BENCHMARKS.map((b) => b.name));
    expect(select({ only: ['fleet', 'outbox'] }).map((b) => b.name)).toEqual(['outbox', 'fleet']);
    expect(select({ skip: ['api', 'fleet'] }).map((b) => b.name)).not.toContain('api');
  });

  it('names an unknown benchmark and lists the known ones', () => {
    expect(() => select({ only: ['apii'] })).toThrow(/unknown benchmark apii: choose from outbox, sync, detect, drive, pipeline, api, ingest, fleet/);
  });

  it('passes arguments through per benchmark, and explains the form of a bad one', () => {
    expect(passThrough(['api:--seconds=5', 'api:--no-write', 'fleet:--vehicles=500'])).toEqual({ api: ['--seconds=5', '--no-write'], fleet: ['--vehicles=500'] });
    expect(() => passThrough(['--seconds=5'])).toThrow(/NAME:ARGUMENT/);
  });

  it('has an npm script for every benchmark', async () => {
    const { default: pkg } = await import('../../package.json', { with: { type: 'json' } });
    for (const b of BENCHMARKS) expect(pkg.scripts, b.script).toHaveProperty(b.script);
  });
});

describe('docs/BENCHMARKS.md sections', () => {
  const at = new Date('2026-12-04T18:00:00Z');
  const doc = '# Benchmarks\n\nintro\n\n<!-- bench:outbox -->\n## Outbox\nold\n<!-- /bench:outbox -->\n';

  it('replaces a section in place and keeps the others', () => {
    const out = withSection(doc, 'outbox', 'Outbox', 'new figures', at, false);
    expect(out).toContain('new figures');
    expect(out).not.toContain('old');
    expect(out.startsWith('# Benchmarks\n\nintro\n\n<!-- bench:outbox -->')).toBe(true);
    expect(out).toContain('_Run 2026-12-04 18:00 UTC on ');
  });

  it('puts a new summary under the header, and a new benchmark at the end', () => {
    const summary = withSection(doc, 'summary', 'Last full run', 'ran 7', at, true);
    expect(summary.indexOf('<!-- bench:summary -->')).toBeLessThan(summary.indexOf('<!-- bench:outbox -->'));
    expect(summary.indexOf('intro')).toBeLessThan(summary.indexOf('<!-- bench:summary -->'));
    const fleet = withSection(doc, 'fleet', 'Fleet', 'figures', at, false);
    expect(fleet.indexOf('<!-- bench:fleet -->')).toBeGreaterThan(fleet.indexOf('<!-- /bench:outbox -->'));
  });
});
