// The sensing pipeline end to end on a rendered drive: real ffmpeg, the shipped ONNX model, fusion,
// the SQLite outbox — and, for `roadwatch run`, real MQTT into a hub process.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDrive } from '../scripts/drive/recorded.js';
import { loadTruth, scoreEvents, type Truth } from '../scripts/drive/score.js';
import { agentEnv, readOutbox, outboxDepth } from './support/agent.js';
import { useHubFixture } from './support/fixture.js';
import { fetchAllDetections } from './support/hub.js';
import { AGENT_BIN, runNode, spawnNode, waitUntil } from './support/processes.js';

let work: string;
let drive: string;
let truth: Truth;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'rw-sensing-'));
  drive = join(work, 'drive');
  // Small frames keep rendering quick; the model sees 320 wide either way.
  await ensureDrive(drive, ['--seed', '950003', '--length-m', '260', '--width', '640', '--height', '360', '--defects', '6', '--video', '--workers', '2']);
  truth = await loadTruth(drive);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface ReplaySummary {
  frames: number;
  framesDetected: number;
  framesFailed: number;
  events: number;
  fixes: number;
  startFrom: string;
  outbox: string;
  eventList: { class: string; lat: number; lon: number; eventId: string; seq: number }[];
}

function camera640(dir: string): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ camera: { source: 'file', path: join(drive, 'drive.mkv'), width: 640, height: 360 } }));
  return file;
}

async function replay(dataDir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  mkdirSync(dataDir, { recursive: true });
  return runNode(AGENT_BIN, ['--config', camera640(dataDir), 'replay', ...args], { ROADWATCH_DATA: dataDir, ROADWATCH_LOG_LEVEL: 'warn' }, 120_000);
}

describe('roadwatch replay of a recorded drive', () => {
  let fromVideo: ReplaySummary;

  it('runs the video and the NMEA log through the pipeline into the outbox, one event per defect at its place', async () => {
    const dataDir = join(work, 'video');
    const result = await replay(dataDir, ['--video', join(drive, 'drive.mkv'), '--nmea', join(drive, 'drive.nmea'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    fromVideo = JSON.parse(result.stdout) as ReplaySummary;
    expect(fromVideo.frames).toBe(truth.frameCount);
    expect(fromVideo.framesDetected).toBe(truth.frameCount);
    expect(fromVideo.framesFailed).toBe(0);
    expect(fromVideo.startFrom).toBe('video');
    const score = scoreEvents(fromVideo.eventList, truth);
    expect(score.recall).toBeGreaterThanOrEqual(0.6);
    expect(score.precision).toBeGreaterThanOrEqual(0.75);
    expect(score.medianErrorM!).toBeLessThan(3);
    expect(score.eventsPerDefect!).toBeLessThanOrEqual(1.2);
    // Every event is in the outbox, ready to sync.
    expect(readOutbox(dataDir).map((r) => r.eventId).sort()).toEqual(fromVideo.eventList.map((e) => e.eventId).sort());
  });

  it('gives the same events from the folder of JPEG frames as from the video', async () => {
    const result = await replay(join(work, 'frames'), ['--frames', join(drive, 'frames'), '--nmea', join(drive, 'drive.nmea'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const fromFrames = JSON.parse(result.stdout) as ReplaySummary;
    expect(fromFrames.startFrom).toBe('nmea');
    const key = (e: { class: string; lat: number; lon: number }) => `${e.class} ${e.lat.toFixed(6)} ${e.lon.toFixed(6)}`;
    expect(fromFrames.eventList.map(key).sort()).toEqual(fromVideo.eventList.map(key).sort());
  });

  it('skips corrupt frames in a damaged video, counts them, and still finds defects', async () => {
    const damaged = join(work, 'damaged.mkv');
    const bytes = readFileSync(join(drive, 'drive.mkv'));
    // Garble a stretch in each of several frames' JPEG data (past the container header).
    for (let k = 1; k <= 8; k++) bytes.fill(0x5a, Math.floor((bytes.length * k) / 10), Math.floor((bytes.length * k) / 10) + 2048);
    writeFileSync(damaged, bytes);
    const result = await replay(join(work, 'damaged'), ['--video', damaged, '--nmea', join(drive, 'drive.nmea'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as ReplaySummary;
    expect(summary.frames).toBeGreaterThan(truth.frameCount * 0.8);
    expect(summary.events).toBeGreaterThan(0);
  });

  it.each([
    ['a missing video', (dir: string) => ['--video', join(dir, 'nope.mkv'), '--nmea', join(drive, 'drive.nmea')], /video .*nope\.mkv not found — check the path/],
    ['a folder without JPEGs', (dir: string) => (mkdirSync(join(dir, 'empty'), { recursive: true }), ['--frames', join(dir, 'empty'), '--nmea', join(drive, 'drive.nmea')]), /holds no \.jpg files/],
    ['a missing NMEA log', () => ['--video', join(drive, 'drive.mkv'), '--nmea', join(drive, 'nope.nmea')], /NMEA log .*nope\.nmea not found — check the path given to --nmea/],
    ['a log without a dated fix', (dir: string) => (writeFileSync(join(dir, 'undated.nmea'), '$GPGGA,080000.00,5205.4000,N,00507.2000,E,1,08,0.9,10.0,M,47.0,M,,*4B\ngarbage\n'), ['--video', join(drive, 'drive.mkv'), '--nmea', join(dir, 'undated.nmea')]), /has no fix with a date .* RMC or ZDA/],
    ['no input', () => ['--nmea', join(drive, 'drive.nmea')], /give one of --video FILE and --frames DIR/],
  ] as const)('%s: exit 2 with the cause and the fix', async (_label, args, message) => {
    const dir = mkdtempSync(join(work, 'bad-'));
    const result = await replay(dir, args(dir));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('roadwatch run with a camera and a GPS', () => {
  const fixture = useHubFixture();

  it('plays the drive in real time through camera, GPS, detector and fusion, and the events reach the hub', async () => {
    const hub = fixture.hub;
    const { secret } = await hub.addDevice('veh-sense-1');
    const dataDir = join(fixture.dir, 'agent');
    mkdirSync(dataDir, { recursive: true });
    const config = join(dataDir, 'config.json');
    copyFileSync(join(drive, 'drive.nmea'), join(dataDir, 'drive.nmea'));
    writeFileSync(
      config,
      JSON.stringify({
        camera: { source: 'file', path: join(drive, 'drive.mkv'), width: 640, height: 360, realtime: true },
        gps: { source: 'file', file: join(dataDir, 'drive.nmea') },
      }),
    );
    const agent = spawnNode(AGENT_BIN, ['--config', config, 'run'], agentEnv({ dataDir, deviceId: 'veh-sense-1', secret, hubUrl: hub.mqttUrl }), 'agent veh-sense-1');
    try {
      await agent.waitForLog((l) => l.msg === 'sensing started', 60_000);
      // The recording ends after truth.durationS; the camera then reports it (a live source should not end).
      await agent.waitForLog((l) => l.sensor === 'camera' && l.state === 'ended', (truth.durationS + 60) * 1000);
    } finally {
      await agent.kill('SIGTERM');
    }
    expect(await agent.exited).toBe(0);
    // Tracks still open at the end were written at stop; the next run syncs them.
    const rerun = spawnNode(AGENT_BIN, ['run'], agentEnv({ dataDir, deviceId: 'veh-sense-1', secret, hubUrl: hub.mqttUrl }), 'agent veh-sense-1 (sync)');
    try {
      await waitUntil(() => outboxDepth(dataDir) === 0, 'the outbox to drain', 60_000);
    } finally {
      await rerun.kill('SIGTERM');
    }
    const stored = await fetchAllDetections(hub);
    const score = scoreEvents(stored, truth);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.every((d) => d.deviceId === 'veh-sense-1')).toBe(true);
    // Live timing: frames and fixes meet on the GPS clock learned from the log played beside the video.
    expect(score.recall).toBeGreaterThanOrEqual(0.6);
    expect(score.medianErrorM!, JSON.stringify({ recall: score.recall, precision: score.precision, median: score.medianErrorM })).toBeLessThan(3);
  }, 240_000);
});
