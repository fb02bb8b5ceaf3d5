import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandCpuSeconds, statCpuSeconds, summarize } from './stats.js';

describe('statCpuSeconds', () => {
  it('reads own and reaped children CPU from a /proc stat line, whatever the command name holds', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
    const line = '4242 (post gres) x) S 1 4242 4242 0 -1 4194560 100 2000 0 0 250 50 1200 300 20 0 1 0 99 0 0';
    expect(statCpuSeconds(line)).toEqual({ name: 'post gres) x', own: 3, reaped: 15 });
  });
});

describe('commandCpuSeconds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-cpu-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the CPU of processes that have exited (their parent reaped them)', async () => {
    // A copy of sh under a name nothing else on the machine runs: a parent that runs a busy child to
    // its end, then waits. Only the parent is alive when we look; the child's CPU must still count.
    const shell = join(dir, 'rwcpuprobe');
    copyFileSync('/bin/sh', shell);
    const before = commandCpuSeconds('rwcpuprobe');
    const parent = spawn(shell, ['-c', `${shell} -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'; echo done; read line`], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => parent.stdout.on('data', () => resolve()));
      const after = commandCpuSeconds('rwcpuprobe');
      expect(before).toBe(0);
      expect(after).toBeGreaterThan(0.05);
    } finally {
      parent.stdin.end(); // `read` is a builtin: the parent has no other child left to outlive it
    }
  });
});

describe('summarize', () => {
  it('gives nearest-rank percentiles', () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect(s).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });
});
