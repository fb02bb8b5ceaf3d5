import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { timesyncdProbe } from './ntp-probe.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

it('reads systemd-timesyncd: synchronised, not yet, or not running (unknown)', () => {
  const root = mkdtempSync(join(tmpdir(), 'roadwatch-ntp-'));
  dirs.push(root);
  const runDir = join(root, 'timesync');
  expect(timesyncdProbe(runDir)()).toBeNull();
  mkdirSync(runDir);
  expect(timesyncdProbe(runDir)()).toBe(false);
  writeFileSync(join(runDir, 'synchronized'), '');
  expect(timesyncdProbe(runDir)()).toBe(true);
});
