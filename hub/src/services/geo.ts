import { getResolution, isValidCell, latLngToCell } from 'h3-js';

/** The H3 cell (hex string, e.g. `891969c9b23ffff`) holding a point at `resolution` (0–15). */
export function cellOf(lat: number, lon: number, resolution: number): string {
  return latLngToCell(lat, lon, resolution);
}

/** The resolution of an H3 cell, or null when the text is not a valid cell. */
export function cellResolution(cell: string): number | null {
  return isValidCell(cell) ? getResolution(cell) : null;
}
