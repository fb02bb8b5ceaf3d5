// The map without a basemap: a light background with a graticule (degree lines labelled at the
// edges) and the scale bar, so positions and distances still read when tiles cannot load.
import L from 'leaflet';

const STEPS = [1, 2, 5];

/** A round step (…, 0.001, 0.002, 0.005, 0.01, …, 10, 20, 45) giving about `lines` lines over `span` degrees. */
export function graticuleStep(span: number, lines = 6): number {
  const raw = Math.max(span / lines, 1e-6);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const m of STEPS) if (m * magnitude >= raw) return Math.min(m * magnitude, 45);
  return Math.min(10 * magnitude, 45);
}

/** "52.0900° N" with as many decimals as the step needs. */
export function degreeLabel(value: number, step: number, axis: 'lat' | 'lon'): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const hemisphere = axis === 'lat' ? (value >= 0 ? 'N' : 'S') : value >= 0 ? 'E' : 'W';
  return `${Math.abs(value).toFixed(decimals)}° ${value === 0 ? '' : hemisphere}`.trim();
}

export class Graticule {
  private readonly layer = L.layerGroup();
  private readonly redraw = (): void => this.draw();
  private shown = false;

  constructor(private readonly map: L.Map) {
    const pane = map.createPane('graticule');
    pane.style.zIndex = '250'; // above tiles (200), below vectors (400) and markers (600)
    pane.style.pointerEvents = 'none';
  }

  get visible(): boolean {
    return this.shown;
  }

  show(): void {
    if (this.shown) return;
    this.shown = true;
    this.map.getContainer().classList.add('no-basemap');
    this.layer.addTo(this.map);
    this.map.on('moveend zoomend resize', this.redraw);
    this.draw();
  }

  hide(): void {
    if (!this.shown) return;
    this.shown = false;
    this.map.getContainer().classList.remove('no-basemap');
    this.map.off('moveend zoomend resize', this.redraw);
    this.layer.remove();
  }

  private draw(): void {
    this.layer.clearLayers();
    const view = this.map.getBounds();
    const south = Math.max(view.getSouth(), -85);
    const north = Math.min(view.getNorth(), 85);
    const west = view.getWest();
    const east = view.getEast();
    const step = graticuleStep(Math.min(north - south, east - west));
    const line = { pane: 'graticule', interactive: false, className: 'rw-graticule', weight: 1 } as const;
    // Labels: latitudes at the right edge, longitudes along the top (the zoom buttons sit top left, the scale bottom left).
    const label = (at: L.LatLngExpression, text: string, kind: 'lat' | 'lon') =>
      L.marker(at, {
        pane: 'graticule',
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: `rw-graticule-label rw-graticule-${kind}`, html: `<span>${text}</span>`, iconSize: [0, 0] }),
      });
    const topBand = (north - south) * 0.06; // the longitude labels' row
    for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
      this.layer.addLayer(L.polyline([[lat, west - 360], [lat, east + 360]], line));
      if (lat < north - topBand) this.layer.addLayer(label([lat, east], degreeLabel(lat, step, 'lat'), 'lat'));
    }
    for (let lon = Math.ceil(west / step) * step; lon <= east; lon += step) {
      this.layer.addLayer(L.polyline([[-85, lon], [85, lon]], line));
      this.layer.addLayer(label([north, lon], degreeLabel(((lon + 540) % 360) - 180, step, 'lon'), 'lon'));
    }
  }
}
