/**
 * Seeded pseudo-random numbers. Every random draw of a run (data, init, shuffling, dropout)
 * comes from a generator derived from the run's seed, so a run can be reproduced exactly.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    // Scramble the seed so that nearby seeds give unrelated streams.
    this.state = mix32((seed >>> 0) ^ 0x9e3779b9);
  }

  /** Uniform 32-bit unsigned integer (mulberry32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A child generator whose stream depends on this seed and a label. */
  fork(label: number): Rng {
    return new Rng(mix32(this.nextUint32() ^ Math.imul(label + 1, 0x85ebca6b)));
  }

  /** In-place Fisher-Yates shuffle. */
  shuffle(a: Int32Array): Int32Array {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Integer 0..2^31-1 for seeding tfjs ops (dropout) deterministically from a step counter. */
export function derivedSeed(seed: number, step: number, salt: number): number {
  return mix32((seed >>> 0) ^ mix32(step + Math.imul(salt, 0x27d4eb2d))) & 0x7fffffff;
}
