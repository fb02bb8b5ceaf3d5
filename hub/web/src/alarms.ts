// The live alarm list: polled every 10 s, acknowledge and clear for tokens whose scope allows it.
import { ApiProblem, type Api } from './api';
import { announce, byId, h, setChildren, showMessage } from './dom';
import { age, ALARM_STATUS_NAMES, ALARM_TYPE_NAMES, coordinates, dateTime } from './format';
import type { Alarm, AlarmPage, Me } from './types';

export const ALARM_POLL_MS = 10_000;
const SEVERITY_RANK: Record<string, number> = { critical: 0, major: 1, minor: 2, warning: 3 };
const STATUS_RANK: Record<string, number> = { active_unack: 0, active_ack: 1, cleared: 2 };
const VIEWS: Record<string, { status?: string[] }> = {
  open: { status: ['active_unack', 'active_ack'] },
  unack: { status: ['active_unack'] },
  all: {},
};

/** Where an alarm is, when it is about a place: severe damage (the event's position) or a hotspot (the cell's centre). */
export function alarmLocation(alarm: Alarm): { lat: number; lon: number } | null {
  const d = alarm.details;
  if (typeof d.lat === 'number' && typeof d.lon === 'number') return { lat: d.lat, lon: d.lon };
  const center = d.center;
  if (Array.isArray(center) && typeof center[0] === 'number' && typeof center[1] === 'number') return { lat: center[0], lon: center[1] };
  return null;
}

export function sortAlarms(alarms: readonly Alarm[]): Alarm[] {
  return [...alarms].sort(
    (a, b) =>
      (STATUS_RANK[a.status] ?? 9) - (STATUS_RANK[b.status] ?? 9) ||
      (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) ||
      b.createdAt.localeCompare(a.createdAt) ||
      b.id - a.id,
  );
}

export class AlarmPanel {
  private readonly list = byId<HTMLUListElement>('alarm-list');
  private readonly view = byId<HTMLSelectElement>('alarm-view');
  private readonly updated = byId('alarms-updated');
  private readonly error = byId('alarm-error');
  private readonly scopeNote = byId('alarm-scope-note');
  private alarms: Alarm[] = [];
  private timer: number | undefined;
  private running = false;
  private busy = new Set<number>();
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly me: Me,
    private readonly locate: (lat: number, lon: number, label: string) => void,
    private readonly onAuthProblem: (problem: ApiProblem) => void,
  ) {
    this.view.addEventListener('change', () => void this.refresh());
    if (!me.may.ack) {
      showMessage(
        this.scopeNote,
        `Signed in as ${me.name} with scope ${me.scope}: you can see alarms, but acknowledging and clearing them needs a token with scope ack.`,
        'info',
      );
    }
  }

  start(): void {
    this.running = true;
    void this.refresh();
  }

  stop(): void {
    this.running = false;
    window.clearTimeout(this.timer);
  }

  async refresh(): Promise<void> {
    window.clearTimeout(this.timer);
    const mine = ++this.generation;
    let wait = ALARM_POLL_MS;
    try {
      const view = VIEWS[this.view.value] ?? VIEWS.open!;
      const page = await this.api.get<AlarmPage>('/api/v1/alarms', { latest: true, limit: 200, status: view.status });
      if (mine !== this.generation) return; // a newer refresh (an action, another view) answers instead
      this.alarms = sortAlarms(page.items);
      this.render();
      const open = page.items.filter((a) => a.status !== 'cleared').length;
      this.updated.textContent = `${open} open · updated ${new Date().toLocaleTimeString()}`;
      if (this.error.dataset.source === 'poll') showMessage(this.error, null);
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      if (error.status === 401) return this.onAuthProblem(error);
      if (error.retryAfterS) wait = error.retryAfterS * 1000;
      this.error.dataset.source = 'poll';
      showMessage(this.error, `Alarms could not be loaded. ${error.explain('Loading alarms')}`, 'error');
    } finally {
      if (this.running && mine === this.generation) this.timer = window.setTimeout(() => void this.refresh(), wait);
    }
  }

  private render(): void {
    // Keep keyboard focus where it was across the re-render: the same button, else its alarm, else the heading.
    const active = document.activeElement as HTMLElement | null;
    const hadFocus = active !== null && this.list.contains(active);
    const focusId = hadFocus ? active.closest<HTMLElement>('[data-alarm-id]')?.dataset.alarmId : undefined;
    const focusAction = hadFocus ? active.dataset.action : undefined;
    if (this.alarms.length === 0) {
      setChildren(this.list, h('li', { class: 'alarm-empty' }, this.view.value === 'all' ? 'No alarms yet.' : 'No open alarms.'));
    } else {
      setChildren(this.list, ...this.alarms.map((a) => this.item(a)));
    }
    if (!hadFocus) return;
    const item = focusId ? this.list.querySelector<HTMLElement>(`[data-alarm-id="${focusId}"]`) : null;
    const button = item && focusAction ? item.querySelector<HTMLButtonElement>(`[data-action="${focusAction}"]`) : null;
    (button && !button.disabled ? button : (item ?? byId('alarms-title'))).focus();
  }

  private item(alarm: Alarm): HTMLLIElement {
    const type = ALARM_TYPE_NAMES[alarm.type] ?? alarm.type;
    const where = alarmLocation(alarm);
    const canAct = this.me.may.ack && !this.busy.has(alarm.id);
    const notAllowed = this.me.may.ack ? null : 'alarm-scope-note';
    const button = (action: 'ack' | 'clear', text: string, enabled: boolean) =>
      h(
        'button',
        {
          type: 'button',
          class: `button ${action === 'ack' ? 'button-primary' : 'button-secondary'}`,
          'data-action': action,
          'aria-label': `${text} alarm ${alarm.id} (${type})`,
          'aria-describedby': notAllowed,
          disabled: !(enabled && canAct),
          onclick: () => void this.act(alarm, action),
        },
        text,
      );
    const who =
      alarm.status === 'active_ack' && alarm.ackedAt
        ? `Acknowledged by ${alarm.ackedBy ?? 'someone'} ${age(alarm.ackedAt)}`
        : alarm.status === 'cleared' && alarm.clearedAt
          ? `Cleared by ${alarm.clearedBy ?? 'someone'} ${age(alarm.clearedAt)}`
          : null;
    return h(
      'li',
      { class: `alarm alarm-${alarm.severity} alarm-${alarm.status}`, tabindex: '-1', 'data-alarm-id': alarm.id, 'data-status': alarm.status, 'data-type': alarm.type },
      h(
        'div',
        { class: 'alarm-head' },
        h('span', { class: `badge badge-${alarm.severity}` }, alarm.severity),
        h('span', { class: 'alarm-type' }, type),
        h('span', { class: `alarm-status status-${alarm.status}` }, ALARM_STATUS_NAMES[alarm.status] ?? alarm.status),
      ),
      h('p', { class: 'alarm-message' }, alarm.message),
      h(
        'p',
        { class: 'alarm-meta' },
        h('time', { datetime: alarm.createdAt, title: dateTime(alarm.createdAt) }, `Raised ${age(alarm.createdAt)}`),
        alarm.deviceId ? ` · ${alarm.deviceId}` : '',
        alarm.count > 1 ? ` · fired ${alarm.count}×` : '',
        ` · #${alarm.id}`,
      ),
      who ? h('p', { class: 'alarm-who' }, who) : null,
      h(
        'div',
        { class: 'alarm-actions' },
        where
          ? h(
              'button',
              { type: 'button', class: 'button button-secondary', 'data-action': 'locate', 'aria-label': `Show alarm ${alarm.id} on the map (${coordinates(where.lat, where.lon)})`, onclick: () => this.locate(where.lat, where.lon, `${type} #${alarm.id}`) },
              'Show on map',
            )
          : null,
        alarm.status === 'active_unack' ? button('ack', 'Acknowledge', true) : null,
        alarm.status !== 'cleared' ? button('clear', 'Clear', true) : null,
      ),
    );
  }

  private async act(alarm: Alarm, action: 'ack' | 'clear'): Promise<void> {
    this.busy.add(alarm.id);
    this.render();
    try {
      const updated = await this.api.post<Alarm>(`/api/v1/alarms/${alarm.id}/${action}`);
      this.alarms = sortAlarms(this.alarms.map((a) => (a.id === updated.id ? updated : a)));
      showMessage(this.error, null);
      announce(`Alarm ${alarm.id} ${action === 'ack' ? 'acknowledged' : 'cleared'}.`);
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      if (error.status === 401) return this.onAuthProblem(error);
      this.error.dataset.source = 'action';
      showMessage(this.error, error.explain(action === 'ack' ? `Acknowledging alarm ${alarm.id}` : `Clearing alarm ${alarm.id}`), 'error');
    } finally {
      this.busy.delete(alarm.id);
      this.render();
      // The list as the hub has it now (a cleared alarm leaves the open view; a 409 means someone else acted).
      void this.refresh();
    }
  }
}
