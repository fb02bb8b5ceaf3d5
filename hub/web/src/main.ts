// The fleet dashboard (docs/DASHBOARD.md): sign in with an API token, then the map, the alarms,
// the hourly chart and the vehicles' health, refreshed while the page is open.
import { AlarmPanel } from './alarms';
import { Api, ApiProblem } from './api';
import { renderHourlyChart } from './chart';
import { readPageConfig } from './config';
import { announce, byId, h, setChildren, showMessage } from './dom';
import { Filters, type FilterState } from './filters';
import { classLabel, dateTime, percent, shortDateTime } from './format';
import { renderHealth } from './health';
import { DashboardMap } from './map';
import { clearToken, savedToken, saveToken } from './session';
import type { CellCollection, DetectionCollection, DevicePage, HourlyPage, HourlyRow, Me, PlacedDetection } from './types';
// Last, so its rules come after Leaflet's in the bundle and win at equal specificity.
import './styles.css';

/** Most detections drawn at once (newest first); the summary says when there are more. */
const MAX_DETECTIONS = 5000;
const DATA_REFRESH_MS = 60_000;
const DEVICES_REFRESH_MS = 30_000;
const TABLE_ROWS = 100;
const FLASH_KEY = 'roadwatch.flash';

const config = readPageConfig();

function show(view: 'loading' | 'signin' | 'dashboard'): void {
  byId('loading').hidden = view !== 'loading';
  byId('signin').hidden = view !== 'signin';
  byId('dashboard').hidden = view !== 'dashboard';
  byId('session').hidden = view !== 'dashboard';
}

/** Back to the sign-in form, with a message (kept across the reload that resets the page). */
function signOut(message: string | null): void {
  clearToken();
  if (message) sessionStorage.setItem(FLASH_KEY, message);
  window.location.reload();
}

function showSignIn(): void {
  show('signin');
  const error = byId('signin-error');
  const flash = sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  showMessage(error, flash);
  const form = byId<HTMLFormElement>('signin-form');
  const input = byId<HTMLInputElement>('token');
  const submit = byId<HTMLButtonElement>('signin-submit');
  const fail = (text: string) => {
    showMessage(error, text);
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', 'signin-error token-hint');
    input.focus();
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return fail('Enter your API token.');
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const api = new Api(token);
      const me = await api.get<Me>('/api/v1/me');
      saveToken(token, byId<HTMLInputElement>('remember').checked);
      input.value = '';
      startDashboard(api, me);
    } catch (problem) {
      if (!(problem instanceof ApiProblem)) throw problem;
      fail(problem.status === 401 ? `The hub did not accept this token: ${problem.hubMessage}. Check that you copied all of it, or ask an operator for a new one.` : problem.explain('Signing in'));
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  input.focus();
}

/** Fetches keyset pages of detections (GeoJSON) until `max` or the last page. */
async function loadDetections(api: Api, f: FilterState): Promise<{ items: PlacedDetection[]; more: boolean }> {
  const items: PlacedDetection[] = [];
  let cursor: string | null = null;
  do {
    const page: DetectionCollection = await api.get<DetectionCollection>('/api/v1/detections', {
      format: 'geojson',
      from: f.from,
      to: f.to,
      class: f.classes,
      deviceId: f.deviceId,
      limit: Math.min(1000, MAX_DETECTIONS - items.length),
      cursor,
    });
    for (const feature of page.features) items.push({ ...feature.properties, lon: feature.geometry.coordinates[0], lat: feature.geometry.coordinates[1] });
    cursor = page.nextCursor;
  } while (cursor && items.length < MAX_DETECTIONS);
  return { items, more: cursor !== null };
}

async function loadHourly(api: Api, f: FilterState): Promise<HourlyRow[]> {
  const rows: HourlyRow[] = [];
  let offset: number | null = 0;
  for (let pages = 0; offset !== null && pages < 20; pages++) {
    const page: HourlyPage = await api.get<HourlyPage>('/api/v1/aggregates/hourly', { from: f.from, to: f.to, class: f.classes, deviceId: f.deviceId, limit: 1000, offset });
    rows.push(...page.items);
    offset = page.nextOffset;
  }
  return rows;
}

function startDashboard(api: Api, me: Me): void {
  show('dashboard');
  setChildren(byId('session-who'), 'Signed in as ', h('strong', {}, me.name), ` · scope ${me.scope}`);
  byId('sign-out').addEventListener('click', () => signOut('You are signed out.'));
  const notice = byId('notice');
  const summary = byId('map-summary');
  const map = new DashboardMap(byId('map'), config, byId('basemap-note'));
  let generation = 0;
  let dataTimer: number | undefined;
  let devicesTimer: number | undefined;
  let stopped = false;

  const onAuthProblem = (problem: ApiProblem): void => {
    if (stopped) return;
    stopped = true;
    signOut(problem.explain());
  };
  const report = (problem: unknown, what: string): void => {
    if (!(problem instanceof ApiProblem)) throw problem;
    if (problem.status === 401) return onAuthProblem(problem);
    showMessage(notice, problem.explain(what), problem.code === 'network' ? 'warning' : 'error');
  };

  const alarms = new AlarmPanel(api, me, (lat, lon, label) => map.showPlace(lat, lon, label), onAuthProblem);

  const filters = new Filters((what) => {
    if (what === 'layers') {
      const f = filters.current();
      map.setLayers(f.showDetections, f.showHotspots);
    } else void loadData(true);
  });

  const renderTable = (items: readonly PlacedDetection[]): void => {
    const body = byId('detections-table').querySelector('tbody')!;
    setChildren(
      body,
      ...items.slice(0, TABLE_ROWS).map((d) =>
        h(
          'tr',
          { 'data-event-id': d.eventId },
          h('td', {}, h('time', { datetime: d.ts, title: dateTime(d.ts) }, shortDateTime(d.ts))),
          h('td', {}, classLabel(d.class)),
          h('td', {}, d.deviceId),
          h('td', {}, percent(d.confidence)),
          h(
            'td',
            {},
            h('button', { type: 'button', class: 'button button-secondary button-small', 'aria-label': `Show ${classLabel(d.class)} of ${shortDateTime(d.ts)} from ${d.deviceId} on the map`, onclick: () => map.showDetection(d.eventId) }, 'Show on map'),
          ),
        ),
      ),
    );
  };

  async function loadData(fit: boolean): Promise<void> {
    window.clearTimeout(dataTimer);
    const mine = ++generation;
    const f = filters.current();
    try {
      if (f.classes !== null && f.classes.length === 0) {
        map.setDetections([], false);
        map.setHotspots([]);
        renderTable([]);
        summary.textContent = 'Tick at least one damage class to see detections.';
        renderHourlyChart(byId('chart'), [], f.from, f.to, byId('chart-title'));
        return;
      }
      const [detections, cells, hourly] = await Promise.all([
        loadDetections(api, f),
        api.get<CellCollection>('/api/v1/aggregates/cells', { format: 'geojson', from: f.from, to: f.to, class: f.classes, limit: 1000 }),
        loadHourly(api, f),
      ]);
      if (mine !== generation || stopped) return;
      if (f.classes === null) filters.addClasses([...detections.items.map((d) => d.class), ...hourly.map((r) => r.class)].sort());
      map.setDetections(detections.items, fit);
      map.setHotspots(cells.features);
      map.setLayers(f.showDetections, f.showHotspots);
      renderTable(detections.items);
      const n = detections.items.length;
      summary.textContent =
        n === 0
          ? 'No detections match the filters.'
          : `${n}${detections.more ? '+' : ''} detection${n === 1 ? '' : 's'}${detections.more ? ` (the newest ${MAX_DETECTIONS} are drawn: narrow the filters for the rest)` : ''}, ${cells.features.length} hotspot cell${cells.features.length === 1 ? '' : 's'}`;
      if (fit) announce(summary.textContent);
      renderHourlyChart(byId('chart'), hourly, f.from, f.to, byId('chart-title'));
      if (notice.dataset.source !== 'devices') showMessage(notice, null);
    } catch (problem) {
      notice.dataset.source = 'data';
      report(problem, 'Loading detections');
    } finally {
      if (mine === generation && !stopped && !document.hidden) dataTimer = window.setTimeout(() => void loadData(false), DATA_REFRESH_MS);
    }
  }

  async function loadDevices(): Promise<void> {
    window.clearTimeout(devicesTimer);
    try {
      const page = await api.get<DevicePage>('/api/v1/devices', { limit: 1000 });
      filters.setVehicles(page.items.map((d) => d.deviceId));
      renderHealth(byId('health-table').querySelector('tbody')!, byId('health-summary'), page.items);
      if (notice.dataset.source === 'devices') showMessage(notice, null);
    } catch (problem) {
      notice.dataset.source = 'devices';
      report(problem, 'Loading vehicles');
    } finally {
      if (!stopped && !document.hidden) devicesTimer = window.setTimeout(() => void loadDevices(), DEVICES_REFRESH_MS);
    }
  }

  byId('refresh').addEventListener('click', () => {
    void loadData(false);
    void loadDevices();
    void alarms.refresh();
  });
  // A hidden tab (the tablet asleep) polls nothing; coming back refreshes at once.
  document.addEventListener('visibilitychange', () => {
    if (stopped) return;
    if (document.hidden) {
      alarms.stop();
      window.clearTimeout(dataTimer);
      window.clearTimeout(devicesTimer);
    } else {
      alarms.start();
      void loadData(false);
      void loadDevices();
    }
  });
  window.addEventListener('resize', () => map.resize());

  map.resize();
  alarms.start();
  void loadDevices();
  void loadData(true);
}

async function boot(): Promise<void> {
  const token = savedToken();
  if (!token) return showSignIn();
  const api = new Api(token);
  try {
    startDashboard(api, await api.get<Me>('/api/v1/me'));
  } catch (problem) {
    if (!(problem instanceof ApiProblem)) throw problem;
    if (problem.status === 401) {
      clearToken();
      sessionStorage.setItem(FLASH_KEY, problem.explain());
    } else sessionStorage.setItem(FLASH_KEY, problem.explain('Signing in'));
    showSignIn();
  }
}

void boot();
