// Per-vehicle health: state, last contact, outbox backlog (with a bar against the fleet's largest),
// inference p95 (when the hub has it) and sensor faults.
import { h, setChildren } from './dom';
import { age, dateTime, duration } from './format';
import type { Device } from './types';

const STATE_TEXT: Record<Device['state'], string> = { online: 'Online', offline: 'Offline', unknown: 'No status yet' };

/** The p95 inference latency a future status may carry (`detector.p95Ms`); the v1 status has none. */
function inferenceP95(device: Device): number | null {
  const detector = (device as Device & { detector?: { p95Ms?: unknown } }).detector;
  return typeof detector?.p95Ms === 'number' ? detector.p95Ms : null;
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
        const p95 = inferenceP95(d);
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
          h('td', {}, p95 === null ? h('span', { class: 'muted', 'aria-describedby': 'p95-note' }, 'not reported') : `${Math.round(p95)} ms`),
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
