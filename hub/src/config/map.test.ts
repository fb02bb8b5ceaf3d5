import { loadConfig, UserError } from '@roadwatch/shared';
import { describe, expect, it } from 'vitest';
import { tilesUrlProblem } from './map.js';
import { HUB_ENV, HubConfigSchema } from './schema.js';

const load = (env: NodeJS.ProcessEnv, file?: string) => loadConfig(HubConfigSchema, { env, bindings: HUB_ENV, what: 'hub', ...(file ? { file } : {}) });

describe('map configuration (the dashboard basemap)', () => {
  it('defaults to no basemap', () => {
    expect(load({}).map).toEqual({ tilesUrl: '', tilesAttribution: '', tilesMaxZoom: 19 });
  });

  it('reads the tile URL and attribution from the environment', () => {
    const config = load({ ROADWATCH_HUB_MAP_TILES_URL: 'https://{s}.tile.example.org/{z}/{x}/{y}.png', ROADWATCH_HUB_MAP_TILES_ATTRIBUTION: '© OpenStreetMap contributors' });
    expect(config.map).toMatchObject({ tilesUrl: 'https://{s}.tile.example.org/{z}/{x}/{y}.png', tilesAttribution: '© OpenStreetMap contributors' });
    expect(load({ ROADWATCH_HUB_MAP_TILES_URL: '/tiles/{z}/{x}/{y}.png' }).map.tilesUrl).toBe('/tiles/{z}/{x}/{y}.png');
  });

  it('refuses a URL that is not a tile template, naming the variable and the fix', () => {
    expect(() => load({ ROADWATCH_HUB_MAP_TILES_URL: 'https://tiles.example.org/' })).toThrow(UserError);
    expect(() => load({ ROADWATCH_HUB_MAP_TILES_URL: 'https://tiles.example.org/' })).toThrow(/map.tilesUrl: "https:\/\/tiles.example.org\/" lacks \{z\}, \{x\}, \{y\}[\s\S]*set ROADWATCH_HUB_MAP_TILES_URL/);
    expect(tilesUrlProblem('ftp://tiles.example.org/{z}/{x}/{y}.png')).toMatch(/not a tile URL/);
    expect(tilesUrlProblem('tiles/{z}/{x}/{y}.png')).toMatch(/not a tile URL/);
    expect(tilesUrlProblem('http://127.0.0.1:8081/{z}/{x}/{y}.png')).toBeNull();
    expect(tilesUrlProblem('')).toBeNull();
  });
});
