// Seeded randomness: mulberry32 streams for sequential draws and integer hashing for values that
// must depend only on a position (noise lattices, road features anchored to a distance along the road).

/** Mixes integers into a well-spread unsigned 32-bit hash (murmur3 finaliser on each input). */
export function hashInts(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const value of values) {
    h = Math.imul(h ^ fmix32(Math.floor(value) | 0), 0x01000193);
    h = fmix32(h);
  }
  return h >>> 0;
}

/** Hash of three integers without allocating, for per-pixel use. */
export function hash3(a: number, b: number, c: number): number {
  let h = fmix32(Math.imul(a, 0x9e3779b1) ^ 0x632be5ab);
  h = fmix32(h ^ Math.imul(b, 0x85ebca77));
  h = fmix32(h ^ Math.imul(c, 0xc2b2ae3d));
  return h >>> 0;
}

/** hash3 mapped to [0, 1). */
export function hash3Unit(a: number, b: number, c: number): number {
  return hash3(a, b, c) / 4294967296;
}

export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h) >>> 0;
}

/** A seed for an independent sub-stream, so adding draws to one stream never shifts another. */
export function deriveSeed(seed: number, label: string | number): number {
  return hashInts(seed, typeof label === 'string' ? hashString(label) : label);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * A bare mulberry32 stream seeded with `seed` as it is (Rng hashes its seed first): for generators whose
 * output must stay what it was (bench data sets, test loads) and need nothing but uniform draws.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = hashInts(seed) | 0;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  /** Gaussian draw (Box–Muller). */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by relative weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, weight]) => sum + weight, 0);
    let r = this.next() * total;
    for (const [item, weight] of items) {
      r -= weight;
      if (r < 0) return item;
    }
    const last = items[items.length - 1];
    if (!last) throw new Error('Rng.weighted: empty list');
    return last[0];
  }
}
