import { cellToLatLng, getHexagonAreaAvg, getResolution, isValidCell, latLngToCell, POLYGON_TO_CELLS_FLAGS, polygonToCellsExperimental } from 'h3-js';
import { InvalidRequestError } from './errors.js';

/** The H3 cell (hex string, e.g. `891969c9b23ffff`) holding a point at `resolution` (0–15). */
export function cellOf(lat: number, lon: number, resolution: number): string {
  return latLngToCell(lat, lon, resolution);
}

/** The resolution of an H3 cell, or null when the text is not a valid cell. */
export function cellResolution(cell: string): number | null {
  return isValidCell(cell) ? getResolution(cell) : null;
}

/** The centre of an H3 cell. */
export function cellCenter(cell: string): { lat: number; lon: number } {
  const [lat, lon] = cellToLatLng(cell);
  return { lat, lon };
}

/** A WGS84 box in degrees; min ≤ max (no antimeridian crossing). */
export interface GeoBox {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

/** Most cells a box may cover before a query must zoom in or coarsen: the cover is sent to the database as a list. */
export const MAX_COVER_CELLS = 20_000;

const KM_PER_DEG = 111.32;

/** Roughly how many cells of `resolution` overlap the box (area over the average cell area, plus its rim). */
export function estimateCover(box: GeoBox, resolution: number): number {
  const midLat = ((box.minLat + box.maxLat) / 2) * (Math.PI / 180);
  const widthKm = (box.maxLon - box.minLon) * KM_PER_DEG * Math.max(Math.cos(midLat), 0.01);
  const heightKm = (box.maxLat - box.minLat) * KM_PER_DEG;
  const cellKm2 = getHexagonAreaAvg(resolution, 'km2');
  const edgeKm = Math.sqrt(cellKm2);
  return Math.ceil((widthKm * heightKm) / cellKm2 + (2 * (widthKm + heightKm)) / edgeKm + 1);
}

/**
 * The cells of `resolution` that overlap the box (h3-js, containmentOverlapping). A box wider than
 * 90° of longitude is cut into strips (H3 reads a polygon edge over 180° as crossing the antimeridian);
 * a box of zero width or height is widened by a hair so that it still finds the cell under it.
 * InvalidRequestError when the cover would exceed `max` cells, naming a resolution that fits.
 */
export function cellsOverlappingBox(box: GeoBox, resolution: number, max = MAX_COVER_CELLS): string[] {
  const estimate = estimateCover(box, resolution);
  const tooMany = (count: number): never => {
    let coarser = resolution - 1;
    while (coarser > 0 && estimateCover(box, coarser) > max) coarser--;
    throw new InvalidRequestError(
      `bbox covers about ${count} cells at resolution ${resolution} (at most ${max})`,
      `zoom in to a smaller bbox, or ask for a coarser resolution (resolution=${Math.max(coarser, 0)} fits)`,
    );
  };
  if (estimate > max * 1.5) tooMany(estimate);
  const eps = 1e-7;
  const minLat = box.minLat;
  const maxLat = box.maxLat > box.minLat ? box.maxLat : Math.min(box.minLat + eps, 90);
  const maxLon = box.maxLon > box.minLon ? box.maxLon : Math.min(box.minLon + eps, 180);
  const strips = Math.max(1, Math.ceil((maxLon - box.minLon) / 90));
  const width = (maxLon - box.minLon) / strips;
  const cells = new Set<string>();
  for (let i = 0; i < strips; i++) {
    const w = box.minLon + i * width;
    const e = i === strips - 1 ? maxLon : w + width;
    const ring = [
      [minLat, w],
      [maxLat, w],
      [maxLat, e],
      [minLat, e],
      [minLat, w],
    ];
    for (const cell of polygonToCellsExperimental(ring, resolution, POLYGON_TO_CELLS_FLAGS.containmentOverlapping)) cells.add(cell);
    if (cells.size > max) tooMany(cells.size);
  }
  return [...cells];
}
