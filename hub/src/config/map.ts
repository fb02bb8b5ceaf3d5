import type { EnvBinding } from '@roadwatch/shared';
import { z } from 'zod';

/**
 * What is wrong with a basemap tile URL template, or null when it is usable: empty (no basemap), or
 * an http(s) URL or a path on this hub (`/tiles/…`, behind the same reverse proxy) with {z}, {x}
 * and {y} placeholders (Leaflet's template: {s} for subdomains, {r} for retina are allowed too).
 */
export function tilesUrlProblem(url: string): string | null {
  if (url === '') return null;
  const missing = ['{z}', '{x}', '{y}'].filter((p) => !url.includes(p));
  const absolute = /^https?:\/\/[^/?#\s]+\/\S*$/i.test(url);
  const local = /^\/[^/\s]\S*$/.test(url);
  if (!absolute && !local) return `"${url}" is not a tile URL: write http(s)://host/path/{z}/{x}/{y}.png (or /path/{z}/{x}/{y}.png on this hub), or leave it empty for no basemap`;
  if (missing.length > 0) return `"${url}" lacks ${missing.join(', ')}: a tile URL template names the zoom, column and row, e.g. https://tiles.example.org/{z}/{x}/{y}.png`;
  return null;
}

/** The dashboard's map (docs/DASHBOARD.md); spread into the hub config schema. */
export const MAP_CONFIG_SHAPE = {
  map: z
    .strictObject({
      /** Basemap tile URL template ({z}/{x}/{y}); empty = no basemap, the map draws a plain grid. */
      tilesUrl: z
        .string()
        .trim()
        .default('')
        .superRefine((url, ctx) => {
          const problem = tilesUrlProblem(url);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      /** Attribution shown on the map for the tiles (HTML is shown as text), e.g. "© OpenStreetMap contributors". */
      tilesAttribution: z.string().max(500).default(''),
      /** Deepest zoom level the tile server has. */
      tilesMaxZoom: z.number().int().min(1).max(24).default(19),
    })
    .prefault({}),
};

export const MAP_ENV: readonly EnvBinding[] = [
  { name: 'ROADWATCH_HUB_MAP_TILES_URL', path: ['map', 'tilesUrl'] },
  { name: 'ROADWATCH_HUB_MAP_TILES_ATTRIBUTION', path: ['map', 'tilesAttribution'] },
];

/** The map settings the dashboard needs, from the hub config. */
export interface MapConfig {
  tilesUrl: string;
  tilesAttribution: string;
  tilesMaxZoom: number;
}
