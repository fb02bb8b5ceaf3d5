// Per-vehicle health: state, last contact, outbox backlog (with a bar against the fleet's largest),
// inference p95 (when the hub has it) and sensor faults.
import { h, setChildren } from './dom';
import { age, dateTime, duration } from './format';
import type { Device } from './types';

const STATE_TEXT: Record<Device['state'], string> = { online: 'Online', offline: 'Offline', unknown: 'No status yet' };

/** The detector's inference p95 and frames a second from the latest status (`detector`); null when not reported. */
function inference(device: Device): { p95Ms: number | null; fps: number | null } {
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return { p95Ms: num(device.detector?.p95Ms), fps: num(device.detector?.fps) };
}

function inferenceCell(device: Device): HTMLElement | string {
  const { p95Ms, fps } = inference(device);
  if (p95Ms === null) return h('span', { class: 'muted', 'aria-describedby': 'p95-note' }, 'not reported');
  return fps === null ? `${Math.round(p95Ms)} ms` : `${Math.round(p95Ms)} ms · ${fps.toFixed(1)} frames/s`;
}

export function renderHealth(body: HTMLElement, summary: HTMLElement | null, devices: readonly Device[]): void {
  const maxDepth = Math.max(1, ...devices.map((d) => d.queue?.depth ?? 0));
  if (devices.length === 0) {
    setChildren(body, h('tr', {}, h('td', { colspan: '6' }, 'No vehicles are registered yet (roadwatch-hub devices add).')));
  } else {
    setChildren(
      body,
      ...devices.map((d) => {
        const depth = d.queue?.depth ?? null;
        const bar = h('span', { class: 'bar-fill' });
        bar.style.width = `${depth === null ? 0 : Math.max(2, Math.round((depth / maxDepth) * 100))}%`;
        return h(
          'tr',
          { 'data-device-id': d.deviceId, 'data-state': d.state },
          h('th', { scope: 'row' }, d.deviceId),
          h('td', {}, h('span', { class: `state state-${d.state}` }, STATE_TEXT[d.state])),
          h('td', {}, d.lastSeenAt ? h('time', { datetime: d.lastSeenAt, title: dateTime(d.lastSeenAt) }, age(d.lastSeenAt)) : 'never'),
          h(
            'td',
            { class: 'backlog' },
            depth === null
              ? 'not reported'
              : h(
                  'span',
                  { class: 'backlog-cell' },
                  h('span', { class: 'bar', 'aria-hidden': 'true' }, bar),
                  `${depth} event${depth === 1 ? '' : 's'}`,
                  d.queue?.oldestUnsyncedAgeS != null && depth > 0 ? ` · oldest ${duration(d.queue.oldestUnsyncedAgeS)}` : '',
                ),
          ),
          h('td', { class: 'inference' }, inferenceCell(d)),
          h('td', {}, d.faults.length === 0 ? h('span', { class: 'muted' }, 'none') : h('ul', { class: 'faults' }, ...d.faults.map((f) => h('li', {}, f)))),
        );
      }),
    );
  }
  if (summary) {
    const online = devices.filter((d) => d.state === 'online').length;
    summary.textContent = `${devices.length} vehicle${devices.length === 1 ? '' : 's'}, ${online} online`;
  }
}
