/**
 * The built-in synthetic sequence slice: seeded user sessions over a long-tailed item vocabulary
 * with sequential structure a model can learn. Item popularity is Zipf (exponent 1). Each item
 * has two successors (drawn from a flatter Zipf, exponent 0.6); the next item is one of the current item's successors
 * with probability 0.6, the first successor of the item two steps back with probability 0.15 (a
 * pattern only a model that sees past the last item finds), and drawn by popularity otherwise. A fifth of
 * the sessions are shorter and left-padded, as in the ML-1M file.
 */
import { Rng } from '../rng';
import { GrowableInt32 } from '../data/preprocess/growable';
import { buildSequenceDataset, type SequenceDataset } from '../data/preprocess/sequenceDataset';
import type { SeqSyntheticConfig } from './seqProtocol';

/** A sampler of the Zipf distribution over 0..n-1 by its cumulative table. */
function zipfSampler(n: number, exponent: number): (rng: Rng) => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** exponent;
    cdf[i] = total;
  }
  return (rng) => {
    const u = rng.next() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export function generateSyntheticSequences(config: SeqSyntheticConfig): SequenceDataset {
  const { seed, numSequences, numItems, length } = config;
  const rng = new Rng(seed);
  const popular = zipfSampler(numItems, 1);
  // A random permutation so that item names carry no hint of popularity.
  const perm = Int32Array.from({ length: numItems }, (_, i) => i);
  rng.fork(1).shuffle(perm);
  // Successors come from a flatter Zipf: what follows an item says more than popularity does.
  const successorOf = zipfSampler(numItems, 0.6);
  const successors = new Int32Array(numItems * 2);
  const srng = rng.fork(2);
  for (let i = 0; i < successors.length; i++) successors[i] = successorOf(srng);

  const itemIds = new GrowableInt32(numSequences * length);
  const offsets = new GrowableInt32(numSequences + 1);
  offsets.push(0);
  const seqRng = rng.fork(3);
  for (let s = 0; s < numSequences; s++) {
    const len = seqRng.next() < 0.2 ? 2 + seqRng.int(length - 1) : length;
    let prev2 = -1;
    let prev = popular(seqRng);
    itemIds.push(perm[prev]);
    for (let t = 1; t < len; t++) {
      const u = seqRng.next();
      let next: number;
      if (u < 0.6) next = successors[prev * 2 + seqRng.int(2)];
      else if (u < 0.75 && prev2 >= 0) next = successors[prev2 * 2];
      else next = popular(seqRng);
      itemIds.push(perm[next]);
      prev2 = prev;
      prev = next;
    }
    offsets.push(itemIds.length);
  }
  const tokens = Array.from({ length: numItems }, (_, i) => `item${i + 1}`);
  return buildSequenceDataset(
    { tokens, itemIds, offsets },
    {
      name: `synthetic sequences (seed ${seed})`,
      selection: { mode: 'all' },
      maxLength: length,
      split: { train: 0.7, validation: 0.1, test: 0.2, seed: 42, mode: 'random' },
    },
  );
}
