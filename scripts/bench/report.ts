// Benchmarks print their figures and write them into a marked section of docs/BENCHMARKS.md,
// so the document always shows the latest run of each benchmark and the machine it ran on.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { fileURLToPath } from 'node:url';

const DOC = fileURLToPath(new URL('../../docs/BENCHMARKS.md', import.meta.url));
const HEADER = `# Benchmarks

Each section is written by its benchmark (\`npm run bench:<name>\`) on its latest run. Absolute
figures depend on the machine and on whatever else it was doing; every benchmark therefore also
measures a reference in the same run and prints the ratio, which is the figure to compare.
`;

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

export function table(rows: Array<Record<string, string | number>>): string {
  const keys = Object.keys(rows[0] ?? {});
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(keys), line(keys.map(() => '---')), ...rows.map((r) => line(keys.map((k) => r[k] ?? '')))].join('\n');
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/**
 * Replaces the section `name` of docs/BENCHMARKS.md, or adds it: at the end, or right under the
 * header with `first` (the summary of `npm run bench`).
 */
export function writeSection(name: string, title: string, body: string, options: { first?: boolean; doc?: string } = {}): void {
  const path = options.doc ?? DOC;
  const doc = existsSync(path) ? readFileSync(path, 'utf8') : HEADER;
  writeFileSync(path, withSection(doc, name, title, body, new Date(), options.first ?? false));
  console.log(`\nwrote the "${name}" section of ${path === DOC ? 'docs/BENCHMARKS.md' : path}`);
}

export function withSection(doc: string, name: string, title: string, body: string, at: Date, first: boolean): string {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const section = `${start}\n## ${title}\n\n_Run ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}._\n\n${body.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from >= 0 && to > from) return doc.slice(0, from) + section + doc.slice(to + end.length);
  if (!first) return `${doc.trimEnd()}\n\n${section}\n`;
  const firstSection = doc.indexOf('<!-- bench:');
  return firstSection < 0 ? `${doc.trimEnd()}\n\n${section}\n` : `${doc.slice(0, firstSection)}${section}\n\n${doc.slice(firstSection)}`;
}
