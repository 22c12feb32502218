/**
 * A small seeded generator (mulberry32): a property test's failing round can be run again from its seed.
 * `next` in [0, 1), `below(n)` an integer in [0, n), `chance(p)` true with probability p.
 */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, below: (n: number) => Math.floor(next() * n), chance: (p: number) => next() < p };
}
