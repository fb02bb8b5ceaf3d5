// The map: detections as clustered markers (Leaflet + Leaflet.markercluster), hotspot cells as
// shaded H3 polygons, a basemap from the configured tile URL — or, with none or when its tiles
// cannot load (a depot without internet), a light background with a graticule and a scale.
import L from 'leaflet';
import 'leaflet.markercluster';
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import type { PageConfig } from './config';
import { h, setChildren } from './dom';
import { classLabel, coordinates, dateTime, KNOWN_CLASSES, percent } from './format';
import { Graticule } from './graticule';
import type { CellCollection, PlacedDetection } from './types';

/** Tiles that failed before any loaded: then the basemap is given up (the page offers a retry). */
const FAILED_TILES_LIMIT = 4;
/** No tile loaded this long after the basemap was added: given up too (a silent network). */
const TILE_TIMEOUT_MS = 8000;
const KNOWN = new Set(KNOWN_CLASSES.map((c) => c.code));

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function detectionLabel(d: PlacedDetection): string {
  return `${classLabel(d.class)}, confidence ${percent(d.confidence)}, ${d.deviceId}, ${dateTime(d.ts)}`;
}

/** The details of one detection: the popup's content. */
function detectionDetails(d: PlacedDetection): HTMLElement {
  const row = (term: string, value: string | null | undefined) => (value === null || value === undefined || value === '' ? null : [h('dt', {}, term), h('dd', {}, value)]);
  const rows = [
    row('Time', dateTime(d.ts)),
    row('Vehicle', d.deviceId),
    row('Confidence', percent(d.confidence)),
    row('Seen in frames', String(d.hits)),
    row('Position', coordinates(d.lat, d.lon)),
    row('Accuracy', d.accuracyM != null ? `± ${d.accuracyM.toFixed(1)} m` : null),
    row('Speed', d.speedKmh != null ? `${Math.round(d.speedKmh)} km/h` : null),
    row('Heading', d.headingDeg != null ? `${Math.round(d.headingDeg)}°` : null),
    row('Clock', d.clock),
    row('Model', d.model ?? null),
    row('Received', dateTime(d.receivedAt)),
    row('Event id', d.eventId),
  ].flatMap((r) => r ?? []);
  return h(
    'div',
    { class: 'detection-details', 'data-event-id': d.eventId },
    h('h3', { tabindex: '-1' }, classLabel(d.class)),
    h('dl', {}, ...rows),
    h('a', { href: `geo:${d.lat},${d.lon}`, class: 'geo-link' }, 'Open in a maps app'),
  );
}

export class DashboardMap {
  readonly map: L.Map;
  private readonly clusters: L.MarkerClusterGroup;
  private readonly hotspots = L.layerGroup();
  private readonly graticule: Graticule;
  private readonly tiles: L.TileLayer | null;
  private readonly markers = new Map<string, L.Marker>();
  private highlight: L.CircleMarker | null = null;
  private tileLoads = 0;
  private tileErrors = 0;
  private tileTimer: number | undefined;
  private showDetections = true;
  private showHotspots = true;

  constructor(
    private readonly el: HTMLElement,
    private readonly config: PageConfig,
    private readonly note: HTMLElement,
  ) {
    this.map = L.map(el, { center: [30, 0], zoom: 2, minZoom: 2, maxZoom: Math.max(config.tilesMaxZoom, 18), zoomControl: true, attributionControl: false, worldCopyJump: true });
    L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(this.map);
    L.control.attribution({ prefix: false }).addTo(this.map);
    this.graticule = new Graticule(this.map);
    this.clusters = L.markerClusterGroup({
      showCoverageOnHover: false,
      maxClusterRadius: 48,
      spiderfyOnMaxZoom: true,
      chunkedLoading: true,
      iconCreateFunction: (cluster) => {
        const n = cluster.getChildCount();
        return L.divIcon({
          className: `rw-cluster ${n >= 100 ? 'rw-cluster-large' : n >= 10 ? 'rw-cluster-medium' : 'rw-cluster-small'}`,
          html: `<span class="rw-cluster-count" aria-hidden="true">${n}</span><span class="visually-hidden">Group of ${n} detections: press Enter to zoom in, or to spread them out where they overlap</span>`,
          iconSize: [44, 44],
        });
      },
    });
    this.clusters.addTo(this.map);
    this.hotspots.addTo(this.map);

    if (config.tilesUrl) {
      const attribution = config.tilesAttribution ? escapeHtml(config.tilesAttribution) : '';
      this.tiles = L.tileLayer(config.tilesUrl, { maxZoom: config.tilesMaxZoom, maxNativeZoom: config.tilesMaxZoom, attribution, crossOrigin: false });
      this.tiles.on('tileload', () => {
        this.tileLoads++;
        window.clearTimeout(this.tileTimer);
      });
      this.tiles.on('tileerror', () => {
        this.tileErrors++;
        if (this.tileLoads === 0 && this.tileErrors >= FAILED_TILES_LIMIT) this.giveUpBasemap();
      });
      this.addBasemap();
    } else {
      this.tiles = null;
      this.graticule.show();
      this.setNote('No basemap is configured: positions are drawn on a plain grid. An operator can set map.tilesUrl (ROADWATCH_HUB_MAP_TILES_URL) on the hub.', false);
    }
  }

  /** True while the map draws tiles (false: no basemap configured, or it could not load). */
  get hasBasemap(): boolean {
    return !this.graticule.visible;
  }

  /** Replaces the detection markers; `fit` moves the view to show them all. */
  setDetections(detections: readonly PlacedDetection[], fit: boolean): void {
    this.clusters.clearLayers();
    this.markers.clear();
    const markers = detections.map((d) => {
      const known = KNOWN.has(d.class) ? d.class : 'other';
      const marker = L.marker([d.lat, d.lon], {
        keyboard: true,
        title: detectionLabel(d),
        riseOnHover: true,
        icon: L.divIcon({ className: `rw-marker rw-class-${known}`, html: `<span aria-hidden="true">${escapeHtml(d.class)}</span>`, iconSize: [36, 36] }),
      });
      marker.bindPopup(() => detectionDetails(d), { maxWidth: 320, maxHeight: 300, autoPanPadding: [24, 24] });
      marker.on('add', () => {
        const icon = marker.getElement();
        icon?.setAttribute('aria-label', detectionLabel(d));
        icon?.setAttribute('data-event-id', d.eventId);
        icon?.setAttribute('data-class', d.class);
      });
      marker.on('popupopen', () => (marker.getPopup()?.getElement()?.querySelector('h3') as HTMLElement | null)?.focus({ preventScroll: true }));
      this.markers.set(d.eventId, marker);
      return marker;
    });
    this.clusters.addLayers(markers);
    if (fit && markers.length > 0) this.fitTo(detections.map((d) => [d.lat, d.lon] as [number, number]));
  }

  /** Replaces the hotspot cells, shaded by events; cells with several vehicles drawn bolder. */
  setHotspots(cells: CellCollection['features']): void {
    this.hotspots.clearLayers();
    const max = Math.max(1, ...cells.map((c) => c.properties.events));
    for (const cell of cells) {
      const { events, devices } = cell.properties;
      const layer = L.geoJSON(cell as GeoJSON.Feature, {
        style: {
          className: devices >= 2 ? 'rw-hotspot rw-hotspot-shared' : 'rw-hotspot',
          fillOpacity: 0.12 + 0.43 * (events / max),
          weight: devices >= 2 ? 3 : 1.5,
        },
      });
      layer.bindTooltip(`${events} detection${events === 1 ? '' : 's'} from ${devices} vehicle${devices === 1 ? '' : 's'} in this cell`, { sticky: true });
      this.hotspots.addLayer(layer);
    }
  }

  setLayers(detections: boolean, hotspots: boolean): void {
    this.showDetections = detections;
    this.showHotspots = hotspots;
    const toggle = (layer: L.Layer, on: boolean) => (on ? this.map.addLayer(layer) : this.map.removeLayer(layer));
    toggle(this.clusters, this.showDetections);
    toggle(this.hotspots, this.showHotspots);
  }

  /** Zooms to a detection (out of its cluster) and opens its details. */
  showDetection(eventId: string): boolean {
    const marker = this.markers.get(eventId);
    if (!marker) return false;
    if (!this.showDetections) this.setLayers(true, this.showHotspots);
    this.el.scrollIntoView({ block: 'nearest' });
    this.clusters.zoomToShowLayer(marker, () => marker.openPopup());
    return true;
  }

  /** Centres a place (an alarm's location) and rings it. */
  showPlace(lat: number, lon: number, label: string): void {
    this.highlight?.remove();
    this.highlight = L.circleMarker([lat, lon], { radius: 22, className: 'rw-focus', interactive: false }).addTo(this.map);
    this.highlight.bindTooltip(label, { permanent: true, direction: 'top', offset: [0, -20] }).openTooltip();
    this.map.setView([lat, lon], Math.max(this.map.getZoom(), 17));
    this.el.scrollIntoView({ block: 'nearest' });
    this.el.focus({ preventScroll: true });
  }

  /** Recomputes the map size (after the layout changed). */
  resize(): void {
    this.map.invalidateSize();
  }

  private fitTo(points: Array<[number, number]>): void {
    this.map.fitBounds(L.latLngBounds(points), { padding: [32, 32], maxZoom: 17, animate: false });
  }

  private addBasemap(): void {
    if (!this.tiles) return;
    this.tileLoads = 0;
    this.tileErrors = 0;
    this.graticule.hide();
    this.setNote(null);
    this.tiles.addTo(this.map);
    window.clearTimeout(this.tileTimer);
    this.tileTimer = window.setTimeout(() => {
      if (this.tileLoads === 0) this.giveUpBasemap();
    }, TILE_TIMEOUT_MS);
  }

  private giveUpBasemap(): void {
    if (!this.tiles || this.graticule.visible) return;
    window.clearTimeout(this.tileTimer);
    this.tiles.remove();
    this.graticule.show();
    let host = this.config.tilesUrl;
    try {
      host = new URL(this.config.tilesUrl.replace(/\{[^}]*\}/g, 'x'), window.location.href).host;
    } catch {
      /* keep the template */
    }
    this.setNote(`The basemap could not be loaded from ${host} (no network here?): positions are drawn on a plain grid, and markers work as usual.`, true);
  }

  private setNote(text: string | null, retry = false): void {
    this.note.hidden = text === null;
    if (text === null) return setChildren(this.note);
    setChildren(
      this.note,
      h('span', {}, text),
      retry ? h('button', { type: 'button', class: 'button button-secondary button-small', onclick: () => this.addBasemap() }, 'Try the basemap again') : null,
    );
  }
}
