/** What the hub injects into index.html (hub/src/api/web/page.ts): the basemap settings. */
export interface PageConfig {
  /** Tile URL template ({z}/{x}/{y}); empty = no basemap. */
  tilesUrl: string;
  tilesAttribution: string;
  tilesMaxZoom: number;
}

const DEFAULTS: PageConfig = { tilesUrl: '', tilesAttribution: '', tilesMaxZoom: 19 };

/** The page config from `<meta name="roadwatch-config">`; the defaults (no basemap) when absent (vite dev server) or unreadable. */
export function readPageConfig(doc: Document = document): PageConfig {
  const raw = doc.querySelector<HTMLMetaElement>('meta[name="roadwatch-config"]')?.content;
  if (!raw) return { ...DEFAULTS };
  try {
    const parsed = JSON.parse(raw) as Partial<PageConfig>;
    return {
      tilesUrl: typeof parsed.tilesUrl === 'string' ? parsed.tilesUrl : DEFAULTS.tilesUrl,
      tilesAttribution: typeof parsed.tilesAttribution === 'string' ? parsed.tilesAttribution : DEFAULTS.tilesAttribution,
      tilesMaxZoom: typeof parsed.tilesMaxZoom === 'number' ? parsed.tilesMaxZoom : DEFAULTS.tilesMaxZoom,
    };
  } catch {
    return { ...DEFAULTS };
  }
}
