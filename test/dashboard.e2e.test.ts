// The fleet dashboard end to end (docs/DASHBOARD.md): a real `roadwatch-hub serve` seeded with a
// simulated drive — two vehicles past the same defects, their events posted through the HTTPS
// uplink, their status over MQTT — and Debian's headless Chromium (playwright-core, no browser
// download) driving the page the hub serves at `/`. One screenshot per test in
// test-artifacts/dashboard/.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceTopic, newBatchId, newEventId } from '@roadwatch/shared';
import mqtt from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { simulateDrive } from '../scripts/drive/simulate.js';
import { createE2eDatabase } from './support/database.js';
import { HubProcess } from './support/hub.js';
import { HUB_BIN, ROOT, runNode, waitUntil } from './support/processes.js';

// The page.evaluate callbacks run in the browser; the root tsconfig has no DOM lib (this file runs
// in Node), so the browser globals they use are declared here, for this file only.
declare const document: any, sessionStorage: any, localStorage: any, getComputedStyle: any, Node: any;
type Element = any;
type HTMLElement = any;
type HTMLInputElement = any;
type HTMLSelectElement = any;
type HTMLButtonElement = any;

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
const ACK_TOKEN_NAME = 'dispatch-e2e';
/** Waits for the page to catch up (a debounced filter, a fetch, a CI machine busy with other tests). */
const poll = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000, interval: 100 });

interface SeededEvent {
  eventId: string;
  deviceId: string;
  class: string;
  lat: number;
  lon: number;
}

/** A port nothing listens on: the basemap "server" of a depot without internet. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The drive's defects as each vehicle reports them: one event per defect where the simulator put it
 * (a metre of GPS scatter per vehicle), at the time the vehicle passes it, the class the truth says.
 */
function driveEvents(plan: ReturnType<typeof simulateDrive>, startMs: number, offsetM: number) {
  const cruiseMps = plan.speedKmh / 3.6;
  return plan.defects.map((d, i) => ({
    eventId: newEventId(),
    seq: i + 1,
    ts: new Date(startMs + (d.distanceM / cruiseMps) * 1000).toISOString(),
    clock: 'gps' as const,
    lat: d.lat + offsetM / 111_320,
    lon: d.lon,
    accuracyM: 2.5,
    speedKmh: plan.speedKmh,
    headingDeg: plan.headingDeg,
    class: d.class,
    confidence: Number((0.62 + ((i * 0.07) % 0.35)).toFixed(2)),
    hits: 3 + (i % 4),
    bbox: [410, 380, 530, 450] as [number, number, number, number],
    frame: { w: 1280, h: 720 },
    model: 'road-damage-tiny@1',
  }));
}

describe.skipIf(!haveChromium && !inCi)(`fleet dashboard in headless Chromium${haveChromium ? '' : ` (skipped: ${CHROMIUM} is missing — apt-get install chromium)`}`, () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createE2eDatabase>>;
  let hub: HubProcess;
  let browser: Browser;
  let context: BrowserContext | undefined;
  let page: Page;
  let consoleProblems: string[] = [];
  let readToken: string;
  let ackToken: string;
  const seeded: SeededEvent[] = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI=true but ${CHROMIUM} is missing: .ci/run installs Debian's chromium package`);
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'rw-dashboard-'));
    database = await createE2eDatabase();
    const tilesPort = await closedPort();
    hub = new HubProcess({
      dataDir: join(dir, 'hub'),
      databaseUrl: database.url,
      env: { ROADWATCH_HUB_MAP_TILES_URL: `http://127.0.0.1:${tilesPort}/{z}/{x}/{y}.png`, ROADWATCH_HUB_MAP_TILES_ATTRIBUTION: 'depot tile server' },
    });
    await hub.start();
    const [a, b] = [await hub.addDevice('veh-a'), await hub.addDevice('veh-b')];
    readToken = await hub.readToken();
    ackToken = await hub.createToken('ack', ACK_TOKEN_NAME);

    // The drive: 500 m past 12 defects; veh-a drove it 100 minutes ago, veh-b 40 minutes ago.
    const now = Date.now();
    const plan = simulateDrive({ seed: 900811, lengthM: 500, defects: 12, width: 320, height: 180 });
    for (const [device, minutesAgo, offsetM] of [[a, 100, 0.8], [b, 40, -0.8]] as const) {
      const events = driveEvents(plan, Math.round((now - minutesAgo * 60_000) / 1000) * 1000, offsetM);
      const res = await fetch(`${hub.httpUrl}/api/v1/devices/${device.deviceId}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${device.deviceId}:${device.secret}`).toString('base64')}` },
        body: JSON.stringify({ v: 1, deviceId: device.deviceId, batchId: newBatchId(), sentAt: new Date().toISOString(), events }),
      });
      const ack = (await res.json()) as { stored: string[]; rejected: unknown[] };
      expect(res.status, JSON.stringify(ack)).toBe(200);
      expect(ack.stored).toHaveLength(events.length);
      seeded.push(...events.map((e) => ({ eventId: e.eventId, deviceId: device.deviceId, class: e.class, lat: e.lat, lon: e.lon })));
    }
    // Their health as the agents publish it (retained status over MQTT).
    const statuses = {
      'veh-a': { queueDepth: 3, queueBytes: 2048, oldestUnsyncedAgeS: 42, sensors: { camera: 'ok', gps: 'ok', detector: 'ok' }, faults: [], detector: { p95Ms: 38.4, fps: 4.75 } },
      'veh-b': { queueDepth: 40, queueBytes: 40960, oldestUnsyncedAgeS: 700, sensors: { camera: 'ok', gps: 'fault', detector: 'ok' }, faults: ['gps: no fix for 120 s — check the antenna cable'] },
    };
    for (const device of [a, b]) {
      const client = await mqtt.connectAsync(hub.mqttUrl, { clientId: device.deviceId, username: device.deviceId, password: device.secret, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
      const status = { v: 1, state: 'online', ts: new Date().toISOString(), agentVersion: '0.1.0', lastAckAt: new Date().toISOString(), evictedTotal: 0, ...statuses[device.deviceId as keyof typeof statuses] };
      await client.publishAsync(deviceTopic(device.deviceId, 'status'), JSON.stringify(status), { qos: 1, retain: true });
      await client.endAsync();
    }
    await waitUntil(async () => {
      const { body } = await hub.get<{ items: Array<{ statusAt: string | null }> }>('/api/v1/devices');
      return body.items.every((d) => d.statusAt !== null);
    }, 'both vehicles’ status to be stored', 15_000);
    const { body: alarms } = await hub.get<{ items: Array<{ type: string }> }>('/api/v1/alarms?latest=true&status=active_unack');
    expect(alarms.items.filter((x) => x.type === 'severe_damage').length).toBeGreaterThan(0);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.stop();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh browser context (empty sessionStorage) for each test; tablet-sized unless asked. */
  async function open(viewport = { width: 1280, height: 800 }): Promise<Page> {
    context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    page = await context.newPage();
    consoleProblems = [];
    page.on('pageerror', (error) => consoleProblems.push(`page error: ${error.message}`));
    // Refused requests (a 403 on purpose, the unreachable tile server) are logged as "Failed to load resource"; anything else is a fault.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) consoleProblems.push(msg.text());
    });
    await page.goto(`${hub.httpUrl}/`);
    return page;
  }

  async function signIn(token: string): Promise<void> {
    await page.getByLabel('API token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#dashboard').waitFor({ state: 'visible' });
  }

  /** Markers drawn on the map, counting each cluster as the detections it holds. */
  const markerCount = (): Promise<number> =>
    page.evaluate(() => {
      const singles = document.querySelectorAll('#map .rw-marker').length;
      const clustered = [...document.querySelectorAll('#map .rw-cluster-count')].reduce((n, el) => n + Number(el.textContent), 0);
      return singles + clustered;
    });

  /** Visible inputs without a label, controls without a name, touch targets under 44 px and text under 4.5:1 contrast, inside `root`. */
  const accessibilityProblems = (root: string): Promise<string[]> =>
    page.evaluate((root) => {
      const out: string[] = [];
      const visible = (el: Element) => (el as HTMLElement).offsetParent !== null;
      for (const el of document.querySelectorAll(`${root} input, ${root} select`)) {
        if (!visible(el)) continue;
        if ((el.labels?.length ?? 0) === 0 && !el.getAttribute('aria-label')) out.push(`no label: #${el.id}`);
      }
      const controls = [`${root} button`, 'header button', `${root} select`, `${root} input:not([type=checkbox])`, `${root} .field-check`, `${root} .leaflet-control-zoom a`];
      for (const el of document.querySelectorAll(controls.join(', '))) {
        if (!visible(el)) continue;
        if (!(el.textContent?.trim() || el.getAttribute('aria-label') || (el as HTMLInputElement).labels?.length)) out.push(`no name: ${el.outerHTML.slice(0, 80)}`);
        const { height, width } = el.getBoundingClientRect();
        if (height < 44 || width < 44) out.push(`small target (${Math.round(width)}×${Math.round(height)}): ${el.outerHTML.slice(0, 80)}`);
      }
      // Text contrast (WCAG AA, 4.5:1): each element with its own text against the backgrounds behind it.
      const rgba = (css: string): number[] => (css.match(/[\d.]+/g) ?? ['0', '0', '0', '0']).map(Number).concat(1).slice(0, 4);
      const channel = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      const luminance = ([r, g, b]: number[]) => 0.2126 * channel(r!) + 0.7152 * channel(g!) + 0.0722 * channel(b!);
      const over = (top: number[], under: number[]) => top.slice(0, 3).map((c, i) => c * top[3]! + under[i]! * (1 - top[3]!)).concat(1);
      const background = (el: Element | null): number[] => {
        if (!el) return [255, 255, 255, 1];
        const own = rgba(getComputedStyle(el).backgroundColor);
        return own[3] === 1 ? own : over(own, background(el.parentElement));
      };
      for (const el of document.querySelectorAll(`header *, ${root} *`)) {
        if (!visible(el) || ![...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim())) continue;
        if (el.closest('.visually-hidden')) continue;
        const style = getComputedStyle(el);
        const fg = over(rgba(style.color), background(el));
        const [a, b] = [luminance(fg), luminance(background(el))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) out.push(`contrast ${ratio.toFixed(2)}: ${el.outerHTML.slice(0, 80)}`);
      }
      return out;
    }, root);

  const summaryFor = (n: number) => new RegExp(`^${n} detections?\\b`);

  afterEach(async (ctx) => {
    if (page && !page.isClosed()) {
      const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 80);
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    }
    await context?.close();
    context = undefined;
    expect(consoleProblems, 'browser console errors (CSP violations, exceptions)').toEqual([]);
  });

  it('signs in with a read token by keyboard and shows a marker for every seeded defect, with its details on click', async () => {
    await open();
    await poll(() => page.locator('#token').evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.type(readToken);
    await page.keyboard.press('Enter');
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    await poll(() => page.locator('#session-who').textContent()).toMatch(/Signed in as e2e-read-\w+ · scope read/);
    await poll(() => page.locator('#map-summary').textContent()).toMatch(summaryFor(seeded.length));
    await poll(() => markerCount()).toBe(seeded.length);
    // The token stays in this tab only.
    expect(await page.evaluate(() => [sessionStorage.getItem('roadwatch.token') !== null, localStorage.getItem('roadwatch.token')])).toEqual([true, null]);

    // Every seeded event is listed; one pothole, opened from the list, shows its own details on the map.
    await page.getByText('Detections as a list').click();
    const listed = await page.locator('#detections-table tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.eventId));
    expect(listed.sort()).toEqual(seeded.map((e) => e.eventId).sort());
    const pothole = seeded.find((e) => e.class === 'D40' && e.deviceId === 'veh-b')!;
    await page.locator(`#detections-table tr[data-event-id="${pothole.eventId}"] button`).click();
    const popup = page.locator(`.leaflet-popup .detection-details[data-event-id="${pothole.eventId}"]`);
    await popup.waitFor({ state: 'visible', timeout: 10_000 });
    const text = await popup.textContent();
    expect(text).toContain('D40 Pothole');
    expect(text).toContain('veh-b');
    expect(text).toContain(`${pothole.lat.toFixed(5)}, ${pothole.lon.toFixed(5)}`);
    expect(await page.locator(`#map .rw-marker[data-event-id="${pothole.eventId}"]`).count()).toBe(1);
  });

  it('filters by class and by vehicle: the markers, the list and the chart follow', async () => {
    await open();
    await signIn(readToken);
    await poll(() => page.locator('#map-summary').textContent()).toMatch(summaryFor(seeded.length));
    for (const name of ['D00 Longitudinal crack', 'D10 Transverse crack', 'D20 Alligator crack']) await page.getByLabel(name, { exact: true }).uncheck();
    const potholes = seeded.filter((e) => e.class === 'D40');
    await poll(() => page.locator('#map-summary').textContent()).toMatch(summaryFor(potholes.length));
    await poll(() => markerCount()).toBe(potholes.length);
    expect(await page.locator('#detections-table tbody tr').count()).toBe(potholes.length);
    expect(new Set(await page.locator('#chart svg rect').evaluateAll((rects) => rects.map((r) => r.getAttribute('data-class'))))).toEqual(new Set(['D40']));

    await page.getByLabel('Vehicle', { exact: true }).selectOption('veh-b');
    const hers = potholes.filter((e) => e.deviceId === 'veh-b');
    await poll(() => page.locator('#map-summary').textContent()).toMatch(summaryFor(hers.length));
    await poll(() => markerCount()).toBe(hers.length);

    // No class at all: nothing drawn, and the page says why.
    await page.getByLabel('D40 Pothole', { exact: true }).uncheck();
    await poll(() => page.locator('#map-summary').textContent()).toContain('Tick at least one damage class');
    await poll(() => markerCount()).toBe(0);
  });

  it('acknowledges and clears an alarm with an ack token: its state changes in the list and on the hub', async () => {
    await open();
    await signIn(ackToken);
    const item = page.locator('#alarm-list li[data-type="severe_damage"][data-status="active_unack"]').first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    const id = await item.getAttribute('data-alarm-id');
    const alarm = page.locator(`#alarm-list li[data-alarm-id="${id}"]`);
    await poll(() => alarm.locator('.alarm-status').textContent()).toBe('Active, not acknowledged');
    expect(await alarm.locator('.badge').textContent()).toBe('critical');

    await alarm.getByRole('button', { name: `Acknowledge alarm ${id}` }).click();
    await poll(() => alarm.getAttribute('data-status')).toBe('active_ack');
    expect(await alarm.locator('.alarm-status').textContent()).toBe('Acknowledged');
    await poll(() => alarm.locator('.alarm-who').textContent()).toMatch(new RegExp(`^Acknowledged by ${ACK_TOKEN_NAME} `));
    let { body } = await hub.get<{ items: Array<{ id: number; status: string; ackedBy: string | null }> }>(`/api/v1/alarms?type=severe_damage`);
    expect(body.items.find((a) => String(a.id) === id)).toMatchObject({ status: 'active_ack', ackedBy: ACK_TOKEN_NAME });
    // Its place on the map.
    await alarm.getByRole('button', { name: `Show alarm ${id} on the map` }).click();
    await page.locator('#map .rw-focus').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'acknowledged-alarm.png'), fullPage: true });

    await alarm.getByRole('button', { name: `Clear alarm ${id}` }).click();
    await alarm.waitFor({ state: 'detached', timeout: 10_000 }); // the open-alarms view no longer lists it
    ({ body } = await hub.get(`/api/v1/alarms?type=severe_damage`));
    expect(body.items.find((a) => String(a.id) === id)).toMatchObject({ status: 'cleared' });
    await page.getByLabel('Show', { exact: true }).selectOption('all');
    await poll(() => page.locator(`#alarm-list li[data-alarm-id="${id}"]`).getAttribute('data-status')).toBe('cleared');
  });

  it('a read token sees that acknowledging needs scope ack, and a refused action names the scope — not a blank page', async () => {
    await open();
    await signIn(readToken);
    const note = page.locator('#alarm-scope-note');
    await note.waitFor({ state: 'visible' });
    expect(await note.textContent()).toContain('needs a token with scope ack');
    const ack = page.locator('#alarm-list li[data-status="active_unack"] button[data-action="ack"]').first();
    await ack.waitFor({ state: 'attached', timeout: 15_000 });
    expect(await ack.isDisabled()).toBe(true);
    const id = await ack.evaluate((b) => b.closest<HTMLElement>('[data-alarm-id]')!.dataset.alarmId!);

    // Past the disabled button (as a stale page would): the hub answers 403 and the page says why.
    await ack.evaluate((b) => {
      (b as HTMLButtonElement).disabled = false;
    });
    await ack.click();
    const error = page.locator('#alarm-error');
    await error.waitFor({ state: 'visible' });
    const message = await error.textContent();
    expect(message).toContain('needs a token with scope ack');
    expect(message).toContain('roadwatch-hub tokens create --name NAME --scope ack');
    expect(await error.getAttribute('role')).toBe('alert');
    const { body } = await hub.get<{ items: Array<{ id: number; status: string }> }>('/api/v1/alarms');
    expect(body.items.find((a) => String(a.id) === id)?.status).toBe('active_unack');
  });

  it('a wrong token gets a clear message at sign-in, and a revoked one is sent back to sign in', async () => {
    await open();
    await page.getByLabel('API token', { exact: true }).fill('rwt_this_is_not_a_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.locator('#signin-error');
    await error.waitFor({ state: 'visible' });
    expect(await error.textContent()).toContain('The hub did not accept this token');
    expect(await page.getByLabel('API token', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#dashboard').isHidden()).toBe(true);

    const name = 'short-lived-e2e';
    const token = await hub.createToken('read', name);
    await signIn(token);
    const revoked = await runNode(HUB_BIN, ['tokens', 'revoke', name], { ...hub.env, DATABASE_URL: database.url ?? '' });
    expect(revoked.code, revoked.stderr).toBe(0);
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await page.locator('#signin').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.locator('#signin-error').textContent()).toContain('invalid or revoked API token');
    expect(await page.evaluate(() => sessionStorage.getItem('roadwatch.token'))).toBeNull();
  });

  it('falls back to a plain grid when the basemap cannot load, and shows the hourly chart and each vehicle’s health', async () => {
    await open();
    await signIn(readToken);
    const note = page.locator('#basemap-note');
    await note.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await note.textContent()).toContain('The basemap could not be loaded from 127.0.0.1');
    expect(await page.locator('#map.no-basemap').count()).toBe(1);
    expect(await page.locator('#map .rw-graticule').count()).toBeGreaterThan(2);
    expect(await page.locator('#map .leaflet-tile-pane img').count()).toBe(0);
    await poll(() => markerCount()).toBe(seeded.length);
    await poll(() => page.locator('#map .rw-hotspot').count()).toBeGreaterThan(0);
    await page.locator('#map').screenshot({ path: join(ARTIFACTS, 'map-without-basemap.png') });

    // Two drives an hour apart: detections in two hours, all of them counted.
    await poll(() => page.locator('#chart-summary').textContent()).toMatch(new RegExp(`^${seeded.length} detections in the range`));
    expect(await page.locator('#chart svg rect').count()).toBeGreaterThanOrEqual(2);

    const a = page.locator('#health-table tr[data-device-id="veh-a"]');
    const b = page.locator('#health-table tr[data-device-id="veh-b"]');
    await a.waitFor();
    expect(await a.locator('.state').textContent()).toBe('Online');
    expect(await a.locator('.backlog').textContent()).toBe('3 events · oldest 42 s');
    expect(await b.locator('.backlog').textContent()).toBe('40 events · oldest 12 min');
    // veh-a's agent reports its detector; veh-b's status carries none.
    expect(await a.locator('.inference').textContent()).toBe('38 ms · 4.8 frames/s');
    expect(await b.locator('.inference').textContent()).toBe('not reported');
    expect(await b.textContent()).toContain('gps: no fix for 120 s');
    expect(await a.textContent()).toMatch(/\d+ s ago/);
    expect(await page.locator('#health-summary').textContent()).toBe('2 vehicles, 2 online');
  });

  it('on a portrait tablet: every control is labelled, reachable by keyboard and at least 44 px tall, all text in AA contrast', async () => {
    await open({ width: 800, height: 1280 });
    expect(await accessibilityProblems('#signin')).toEqual([]);
    await signIn(readToken);
    // Back in the same tab later: still signed in (sessionStorage); the first Tab reaches the skip link.
    await page.reload();
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await poll(() => page.locator('#map-summary').textContent()).toMatch(summaryFor(seeded.length));
    await page.locator('#alarm-list li').first().waitFor();

    expect(await accessibilityProblems('#dashboard')).toEqual([]);
    // The check itself sees a faint text, a tiny button and a small unlabelled field.
    await page.evaluate(() => {
      const probe = document.createElement('div');
      probe.id = 'probe';
      probe.innerHTML = '<p>faint</p><button type="button">x</button><input id="probe-input">';
      (probe.firstChild as HTMLElement).style.color = '#bbbbbb';
      (probe.children[1] as HTMLElement).style.cssText = 'min-height: 0; min-width: 0; padding: 0';
      document.querySelector('#dashboard .panel-filters')!.append(probe);
    });
    expect((await accessibilityProblems('#dashboard')).map((p) => p.split(':')[0]!.replace(/ [\d.()×]+$/, ''))).toEqual(['no label', 'small target', 'no name', 'small target', 'contrast']);
    await page.evaluate(() => document.getElementById('probe')!.remove());

    // Keyboard: Enter on a group of markers opens it: it zooms in (the scale bar changes) or, when its
    // markers overlap even at the deepest zoom (both vehicles past one defect), spreads them out
    // (more markers drawn). Which group comes first depends on how fast the page clustered them …
    const opened = () =>
      page.evaluate(() => `${document.querySelector('#map .leaflet-control-scale-line')?.textContent} ${document.querySelectorAll('#map .rw-marker').length}`);
    const before = await opened();
    // (A periodic refresh may redraw the clusters between focus and key press on a loaded machine: retry the gesture.)
    await poll(async () => {
      await page.locator('#map .rw-cluster').first().focus();
      await page.keyboard.press('Enter');
      await page.waitForTimeout(500);
      return opened();
    }).not.toBe(before);
    // … and on one detection opens its details.
    await page.getByLabel('Vehicle', { exact: true }).selectOption('veh-a');
    await poll(() => page.locator('#map-summary').textContent()).toMatch(summaryFor(seeded.filter((e) => e.deviceId === 'veh-a').length));
    const marker = page.locator('#map .rw-marker').first();
    await marker.waitFor();
    const eventId = await marker.getAttribute('data-event-id');
    expect(await marker.getAttribute('tabindex')).toBe('0');
    await marker.focus();
    await page.keyboard.press('Enter');
    await page.locator(`.leaflet-popup .detection-details[data-event-id="${eventId}"]`).waitFor({ state: 'visible' });
    // Focus moves into the details, so a screen reader reads them.
    expect(await page.evaluate(() => document.activeElement?.closest('.detection-details') !== null)).toBe(true);
  });
});
