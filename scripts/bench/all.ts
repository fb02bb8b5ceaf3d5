// npm run bench [-- --only outbox,sync --skip api --pass api:--seconds=5]
// Every benchmark, one after the other (never two at once: they measure CPU time on a shared machine),
// each as its own `npm run` so it starts from a clean process. Each writes its own section of
// docs/BENCHMARKS.md; this writes the run's summary on top: the machine, the versions of the servers
// measured against, and how each benchmark went.
import { spawn, spawnSync } from 'node:child_process';
import { freemem, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fmt, machine, table, writeSection } from './report.js';
import { passThrough, select } from './suite.js';

function versionOf(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0];
  return r.status === 0 || text ? (text || 'unknown') : 'not found';
}

function environment(): string[] {
  const pgUrl = process.env.ROADWATCH_BENCH_DATABASE_URL ?? process.env.ROADWATCH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  return [
    `- machine: ${machine()}; free memory at the start ${fmt(freemem() / 2 ** 30, 1)} GiB; load average at the start ${loadavg().map((n) => n.toFixed(1)).join(' ')}`,
    `- Postgres: ${versionOf('psql', [pgUrl, '-tAc', 'show server_version'])}`,
    `- Mosquitto: ${versionOf('/usr/sbin/mosquitto', ['-h'])}`,
    `- ffmpeg: ${versionOf('ffmpeg', ['-hide_banner', '-version'])}`,
  ];
}

async function run(script: string, args: string[]): Promise<number> {
  const child = spawn('npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      skip: { type: 'string' },
      pass: { type: 'string', multiple: true, default: [] },
    },
  });
  const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean);
  const chosen = select({ only: list(values.only), skip: list(values.skip) });
  const extra = passThrough(values.pass);
  const env = environment();
  const started = new Date();
  const outcomes: Array<Record<string, string>> = [];
  for (const b of chosen) {
    console.log(`\n=== ${b.name}: npm run ${b.script} ${(extra[b.name] ?? []).join(' ')}`);
    const t0 = performance.now();
    const code = await run(b.script, extra[b.name] ?? []);
    const minutes = (performance.now() - t0) / 60_000;
    outcomes.push({ benchmark: b.name, measures: b.what, minutes: fmt(minutes, 1), result: code === 0 ? 'section rewritten' : `FAILED (exit ${code}); its section is from an earlier run` });
  }
  const body = [
    `\`npm run bench\` started ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC and ran ${chosen.length} benchmark(s) one after the other. Each section below says when it was last written; a section this run did not rewrite keeps its own date.`,
    '',
    ...env,
    `- load average at the end ${loadavg().map((n) => n.toFixed(1)).join(' ')}`,
    '',
    table(outcomes),
  ].join('\n');
  console.log(`\n${body}`);
  writeSection('summary', 'Last full run (npm run bench)', body, { first: true });
  if (outcomes.some((o) => o.result?.startsWith('FAILED'))) process.exitCode = 1;
}

await main();
