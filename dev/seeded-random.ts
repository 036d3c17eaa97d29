/**
 * A small deterministic pseudo-random source (mulberry32): the same numbers for the same seed,
 * so a test's or the bench's generated audit trail is the same every run.
 *
 * @example
 * const r = seededRandom(11);
 * r(); // a number in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
