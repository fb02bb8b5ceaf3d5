// The filter form: damage classes, time range, vehicle, map layers.
import { byId, h } from './dom';
import { classColor, classLabel, KNOWN_CLASSES } from './format';

export interface FilterState {
  /** null = every class (no filter); [] = none ticked. */
  classes: string[] | null;
  from: string;
  to: string;
  /** Hours between from and to. */
  hours: number;
  deviceId: string | null;
  showDetections: boolean;
  showHotspots: boolean;
  /** Set when the custom range is unusable: what to fix. */
  problem: string | null;
}

const PRESET_HOURS: Record<string, number> = { '1h': 1, '6h': 6, '24h': 24, '7d': 24 * 7, '30d': 24 * 30 };
/** The hub answers at most 366 days of aggregates at once. */
const MAX_HOURS = 366 * 24;

/** `<input type=datetime-local>` value of a time, in the browser's zone. */
function localInputValue(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export class Filters {
  private readonly form = byId<HTMLFormElement>('filters');
  private readonly classBox = byId('class-options');
  private readonly range = byId<HTMLSelectElement>('range');
  private readonly custom = byId('custom-range');
  private readonly from = byId<HTMLInputElement>('from');
  private readonly to = byId<HTMLInputElement>('to');
  private readonly vehicle = byId<HTMLSelectElement>('vehicle');
  private readonly layerDetections = byId<HTMLInputElement>('layer-detections');
  private readonly layerHotspots = byId<HTMLInputElement>('layer-hotspots');
  private readonly customError = h('p', { class: 'message message-error', role: 'alert', hidden: true });
  private timer: number | undefined;

  constructor(private readonly onChange: (what: 'data' | 'layers') => void) {
    this.addClasses(KNOWN_CLASSES.map((c) => c.code));
    this.custom.append(this.customError);
    this.form.addEventListener('submit', (e) => e.preventDefault());
    this.form.addEventListener('change', (e) => {
      const target = e.target as HTMLElement;
      if (target === this.range) this.onRange();
      if (target === this.layerDetections || target === this.layerHotspots) this.onChange('layers');
      else this.changed();
    });
  }

  /** Adds a checkbox (ticked) for each class not yet offered: the data may hold classes of another model. */
  addClasses(codes: Iterable<string>): void {
    for (const code of codes) {
      if (this.classInputs().some((i) => i.value === code)) continue;
      const id = `class-${code.replace(/[^A-Za-z0-9_-]/g, '_')}`;
      const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true', 'data-class': code });
      swatch.style.background = classColor(code);
      this.classBox.append(
        h('div', { class: 'field-check' }, h('input', { id, type: 'checkbox', name: 'class', value: code, checked: true }), h('label', { for: id }, swatch, classLabel(code))),
      );
    }
  }

  setVehicles(ids: readonly string[]): void {
    const selected = this.vehicle.value;
    const have = [...this.vehicle.options].map((o) => o.value).filter(Boolean);
    if (have.length === ids.length && have.every((id, i) => id === ids[i])) return;
    this.vehicle.replaceChildren(h('option', { value: '' }, 'All vehicles'), ...ids.map((id) => h('option', { value: id }, id)));
    this.vehicle.value = ids.includes(selected) ? selected : '';
  }

  current(now = Date.now()): FilterState {
    const ticked = this.classInputs().filter((i) => i.checked).map((i) => i.value);
    const all = ticked.length === this.classInputs().length;
    let from: number;
    let to: number;
    let problem: string | null = null;
    if (this.range.value === 'custom') {
      from = this.from.value ? new Date(this.from.value).getTime() : NaN;
      to = this.to.value ? new Date(this.to.value).getTime() : now;
      if (!Number.isFinite(from)) problem = 'Enter the start of the range (From).';
      else if (!(to > from)) problem = '“To” must be after “From”.';
      else if ((to - from) / 3_600_000 > MAX_HOURS) problem = 'Choose at most 366 days.';
      if (problem) {
        to = now;
        from = now - 24 * 3_600_000;
      }
    } else {
      to = now;
      from = now - (PRESET_HOURS[this.range.value] ?? 24) * 3_600_000;
    }
    this.customError.hidden = problem === null;
    this.customError.textContent = problem ?? '';
    return {
      classes: all ? null : ticked,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      hours: (to - from) / 3_600_000,
      deviceId: this.vehicle.value || null,
      showDetections: this.layerDetections.checked,
      showHotspots: this.layerHotspots.checked,
      problem,
    };
  }

  private classInputs(): HTMLInputElement[] {
    return [...this.classBox.querySelectorAll<HTMLInputElement>('input[name="class"]')];
  }

  private onRange(): void {
    const custom = this.range.value === 'custom';
    this.custom.hidden = !custom;
    if (custom && !this.from.value) {
      const now = Date.now();
      this.from.value = localInputValue(now - 24 * 3_600_000);
      this.to.value = localInputValue(now);
    }
  }

  /** Many changes in a row (ticking several classes) make one reload. */
  private changed(): void {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.onChange('data'), 250);
  }
}
