import type { Parameters as FcParameters } from 'fast-check';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/**
 * Settings shared by the property-based fuzz tests (`*.fuzz.test.ts`, docs/TESTING.md "Fuzzing").
 *
 * - ROADWATCH_FUZZ_SEED: replay a run. fast-check prints `seed` (and `path`) with every
 *   counterexample; with the seed set, every property of the file draws the same cases again.
 *   Unset: a fresh random seed per property.
 * - ROADWATCH_FUZZ_RUNS: a factor on every property's default number of cases (default 1;
 *   `ROADWATCH_FUZZ_RUNS=20` runs twenty times as many, with the test timeouts scaled to match).
 * - ROADWATCH_FUZZ_PATH: with the seed, replays just the one shrunk counterexample fast-check named.
 */
export const FUZZ_SEED_ENV = 'ROADWATCH_FUZZ_SEED';
export const FUZZ_RUNS_ENV = 'ROADWATCH_FUZZ_RUNS';
export const FUZZ_PATH_ENV = 'ROADWATCH_FUZZ_PATH';

function envNumber(name: string, fallback: number, check: (n: number) => boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!check(n)) throw new Error(`${name}=${raw}: expected ${name === FUZZ_SEED_ENV ? 'an integer seed' : 'a positive number'}`);
  return n;
}

/** The factor ROADWATCH_FUZZ_RUNS sets (1 by default). */
export const fuzzScale = envNumber(FUZZ_RUNS_ENV, 1, (n) => Number.isFinite(n) && n > 0);

/** fast-check parameters for a property whose default is `runs` cases. */
export function fuzzParams<T = unknown>(runs: number): FcParameters<T> {
  const params: FcParameters<T> = { numRuns: Math.max(1, Math.round(runs * fuzzScale)) };
  const seed = process.env[FUZZ_SEED_ENV];
  if (seed !== undefined && seed.trim() !== '') {
    params.seed = envNumber(FUZZ_SEED_ENV, 0, (n) => Number.isInteger(n));
    const path = process.env[FUZZ_PATH_ENV];
    if (path) params.path = path;
  }
  return params;
}

/** A test timeout (ms) for a property whose default cases take about `ms`, scaled with ROADWATCH_FUZZ_RUNS. */
export function fuzzTimeout(ms: number): number {
  return Math.round(ms * Math.max(1, fuzzScale));
}

/**
 * Fails the surrounding tests on any unhandled promise rejection or uncaught exception while they
 * run (vitest would report one, but only at the end of the file and not against the test that
 * caused it). Call once at the top of a describe block or file.
 */
export function failOnUnhandledErrors(): void {
  const seen: string[] = [];
  const onRejection = (reason: unknown) => void seen.push(`unhandled rejection: ${show(reason)}`);
  const onException = (error: unknown) => void seen.push(`uncaught exception: ${show(error)}`);
  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
    process.on('uncaughtException', onException);
  });
  afterEach(() => {
    expect(seen.splice(0), 'no unhandled rejection or uncaught exception').toEqual([]);
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    expect(seen, 'no unhandled rejection or uncaught exception after the last test').toEqual([]);
  });
}

function show(value: unknown): string {
  return value instanceof Error ? (value.stack ?? value.message) : String(value);
}
