/**
 * Seeded randomness for the scheduler (STYLE.md 6): every random choice for a task comes from a
 * generator seeded with that task's id, so the same input always gives the same placements and a
 * test can replay any decision.
 */

/** FNV-1a's offset basis: the hash of the empty string. */
export const HASH32_EMPTY = 0x811c9dc5;

/**
 * FNV-1a, 32 bits: a fast, well-mixed hash of a string (not for security). `h` continues the hash
 * of a prefix: hash32(b, hash32(a)) === hash32(a + b), so a fixed prefix is hashed once.
 */
export function hash32(s: string, h = HASH32_EMPTY): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A uniform generator in [0, 1). */
export interface Random {
  next(): number;
}

/**
 * mulberry32, tiny and good enough for tie-breaks and sampling. Reseedable, so one pass reuses
 * one generator for all its tasks instead of allocating one per task.
 */
export class SeededRandom implements Random {
  private a = 0;

  /** Starts the sequence that hash32(seed) === `hash` gives; returns this. */
  reseed(hash: number): this {
    this.a = hash >>> 0;
    return this;
  }

  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** A generator seeded from a string (the task id, optionally mixed with a caller's seed). */
export function seededRandom(seed: string): Random {
  return new SeededRandom().reseed(hash32(seed));
}

/** An integer in [0, n): for random offsets and reservoir tie-breaks. */
export function randomInt(rng: Random, n: number): number {
  return Math.floor(rng.next() * n);
}
