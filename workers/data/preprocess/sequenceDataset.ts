/**
 * The compact form of a sequence dataset (NextItNet / CpRec): fixed-width rows of item ids,
 * left-padded with 0 as the source files are, items re-indexed 1..V by frequency desc then token
 * (CpRec's block cut points are ranks in this order).
 */
import type { CtrSplit } from '../dataset';
import { Rng } from '../../rng';
import { GrowableInt32 } from './growable';
import type { RowSelection } from './rowSampling';
import { compareTokens } from './vocabulary';

export interface SequenceDataset {
  name: string;
  numSequences: number;
  /** Width of a row. */
  maxLen: number;
  /** Row-major [numSequences, maxLen]; 0 = padding (on the left), items 1..numItems. */
  items: Int32Array;
  /** Items (non-padding) per sequence. */
  lengths: Int32Array;
  numItems: number;
  /** itemTokens[id - 1] = the raw token of item id. */
  itemTokens: string[];
  /** itemFrequencies[id] = occurrences of item id in the kept sequences ([0] = 0, padding). */
  itemFrequencies: Int32Array;
  /** Sequences longer than maxLen (their most recent maxLen items were kept). */
  truncated: number;
  /** Rows of `items`; CpRec shuffles (seeded) and tests on the last 20%. */
  split: CtrSplit;
}

/** Sequences as parsed: provisional item ids (order of first appearance), concatenated. */
export interface ParsedSequences {
  tokens: readonly string[];
  itemIds: GrowableInt32;
  /** offsets[s]..offsets[s+1] are the items of sequence s (length numSequences + 1). */
  offsets: GrowableInt32;
}

export interface SequenceBuildOptions {
  name: string;
  selection: RowSelection;
  /** Keep at most this many most recent items per sequence; default: the longest sequence. */
  maxLength?: number;
  split: {
    train: number;
    validation: number;
    test: number;
    seed: number;
    mode: 'random' | 'ordered';
  };
}

export function buildSequenceDataset(
  parsed: ParsedSequences,
  options: SequenceBuildOptions,
): SequenceDataset {
  const total = parsed.offsets.length - 1;
  const offsets = parsed.offsets.array;
  const src = parsed.itemIds.array;
  const chosen = selectSequences(total, options.selection);
  const n = chosen.length;

  // Frequencies over the kept sequences only, then ids by count desc, token.
  const counts = new Int32Array(parsed.tokens.length);
  let longest = 0;
  for (const s of chosen) {
    longest = Math.max(longest, offsets[s + 1] - offsets[s]);
    for (let k = offsets[s]; k < offsets[s + 1]; k++) counts[src[k]]++;
  }
  const present: number[] = [];
  for (let p = 0; p < counts.length; p++) if (counts[p] > 0) present.push(p);
  const numeric = parsed.tokens.every((t) => /^-?\d+$/.test(t));
  present.sort(
    (a, b) =>
      counts[b] - counts[a] ||
      (numeric
        ? Number(parsed.tokens[a]) - Number(parsed.tokens[b])
        : compareTokens(parsed.tokens[a], parsed.tokens[b])),
  );
  const finalId = new Int32Array(counts.length);
  const itemFrequencies = new Int32Array(present.length + 1);
  present.forEach((p, i) => {
    finalId[p] = i + 1;
    itemFrequencies[i + 1] = counts[p];
  });

  const maxLen = Math.max(1, options.maxLength ?? longest);
  const items = new Int32Array(n * maxLen);
  const lengths = new Int32Array(n);
  let truncated = 0;
  chosen.forEach((s, row) => {
    // The most recent items (the end of the line) are kept when a sequence is too long.
    const from = Math.max(offsets[s], offsets[s + 1] - maxLen);
    const len = offsets[s + 1] - from;
    if (from > offsets[s]) truncated++;
    lengths[row] = len;
    const base = row * maxLen + (maxLen - len);
    for (let k = 0; k < len; k++) items[base + k] = finalId[src[from + k]];
  });

  return {
    name: options.name,
    numSequences: n,
    maxLen,
    items,
    lengths,
    numItems: present.length,
    itemTokens: present.map((p) => parsed.tokens[p]),
    itemFrequencies,
    truncated,
    split: splitSequences(n, options.split),
  };
}

/** Indices of the kept sequences, in file order. */
function selectSequences(total: number, selection: RowSelection): Int32Array {
  if (selection.mode === 'all' || selection.count >= total)
    return Int32Array.from({ length: total }, (_, i) => i);
  if (selection.mode === 'first')
    return Int32Array.from({ length: Math.max(0, selection.count) }, (_, i) => i);
  // Seeded uniform sample without replacement (partial Fisher-Yates), then back to file order.
  const rng = new Rng(selection.seed);
  const idx = Int32Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < selection.count; i++) {
    const j = i + Math.floor(rng.next() * (total - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, selection.count).sort();
}

function splitSequences(n: number, o: SequenceBuildOptions['split']): CtrSplit {
  const total = o.train + o.validation + o.test;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  if (o.mode === 'random') new Rng(o.seed).shuffle(order);
  const nTrain = Math.floor((n * o.train) / total);
  const nValid = Math.floor((n * o.validation) / total);
  return {
    train: order.slice(0, nTrain),
    validation: order.slice(nTrain, nTrain + nValid),
    test: order.slice(nTrain + nValid),
  };
}
