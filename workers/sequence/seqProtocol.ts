/**
 * The contract of the sequential task (NextItNet and CpRec) between the UI and the engine worker:
 * the option tables, the run config, the events and the result. Sequences are a task of their
 * own beside CTR ranking: their own batches (item sequences), loss (next-item cross-entropy at
 * every position) and metrics (MRR / HR / NDCG at 5 and 20).
 *
 * tfjs-free and DOM-free: the main thread imports it at runtime.
 */
import {
  choiceOption,
  defaultsOf,
  numberListOption,
  numberOption,
  validateOptions,
  type OptionValues,
} from '../options';
import type { BackendName, MemoryInfo, RunState } from '../protocol';

/** The built-in synthetic sequence slice. */
export const SEQ_DATA_OPTIONS = {
  seed: numberOption({
    label: 'Data seed',
    help: 'Seed of the generator: the same seed gives the same sequences',
    param: 'sdseed',
    default: 7,
    min: 0,
    max: 2 ** 31 - 1,
    integer: true,
  }),
  numSequences: numberOption({
    label: 'Sequences',
    help: 'User sessions generated (70% train, 10% validation, 20% test)',
    param: 'seqs',
    default: 4000,
    min: 100,
    max: 500_000,
    integer: true,
  }),
  numItems: numberOption({
    label: 'Items',
    help: 'Item vocabulary; popularity is long-tailed (Zipf)',
    param: 'items',
    default: 1000,
    min: 20,
    max: 200_000,
    integer: true,
  }),
  length: numberOption({
    label: 'Length',
    help: 'Items per session (shorter sessions are left-padded, as in the ML-1M file)',
    param: 'len',
    default: 20,
    min: 3,
    max: 200,
    integer: true,
  }),
};
export type SeqSyntheticConfig = OptionValues<typeof SEQ_DATA_OPTIONS>;

/** The NextItNet model and its training, as the official code runs it (smaller d by default). */
export const SEQ_TRAIN_OPTIONS = {
  embeddingDim: numberOption({
    label: 'Embedding dim',
    help: 'Width d of item embeddings and of every residual block (official: 512)',
    param: 'sdim',
    default: 64,
    min: 4,
    max: 1024,
    integer: true,
  }),
  dilations: numberListOption({
    label: 'Dilations',
    help: 'One per causal conv; two convs make a residual block (official: 1-2-4-8-1-2-4-8)',
    param: 'dil',
    default: [1, 2, 4, 8, 1, 2, 4, 8],
    min: 1,
    max: 64,
    integer: true,
    minLength: 2,
    maxLength: 32,
    separator: '-',
  }),
  epochs: numberOption({
    label: 'Epochs',
    help: 'Passes over the training sequences',
    param: 'sepochs',
    default: 5,
    min: 1,
    max: 1000,
    integer: true,
  }),
  maxSteps: numberOption({
    label: 'Step budget',
    help: '0 = every epoch; otherwise stop after this many steps',
    param: 'ssteps',
    default: 0,
    min: 0,
    max: 100_000_000,
    integer: true,
  }),
  batchSize: numberOption({
    label: 'Batch size',
    help: 'Sequences per training step (official: 128)',
    param: 'sbatch',
    default: 128,
    min: 1,
    max: 8192,
    integer: true,
  }),
  learningRate: numberOption({
    label: 'Learning rate',
    help: 'Adam step size (official: 0.001); can be changed while training',
    param: 'slr',
    default: 0.001,
    min: 0,
    max: 10,
    integer: false,
    minInclusive: false,
    live: true,
  }),
  l2: numberOption({
    label: 'L2 weight',
    help: 'Loss + this × mean over variables of sum(w²)/2 (official: 0.001)',
    param: 'sl2',
    default: 0.001,
    min: 0,
    max: 10,
    integer: false,
  }),
  evalEverySteps: numberOption({
    label: 'Evaluate every (steps)',
    help: '0 = at the end of each epoch; validation picks the best weights',
    param: 'sevalsteps',
    default: 0,
    min: 0,
    max: 1_000_000,
    integer: true,
  }),
  earlyStoppingPatience: numberOption({
    label: 'Early-stop patience (evaluations)',
    help: '0 = off; else stop after this many evaluations without a better validation MRR@20',
    param: 'spatience',
    default: 0,
    min: 0,
    max: 1000,
    integer: true,
  }),
  seed: numberOption({
    label: 'Seed',
    help: 'Seed of the initial weights and the shuffling',
    param: 'sseed',
    default: 1,
    min: 0,
    max: 2 ** 31 - 1,
    integer: true,
  }),
};
export type SeqTrainConfig = OptionValues<typeof SEQ_TRAIN_OPTIONS>;

export const SHARING_SCHEMES = [
  'none',
  'cross-layer',
  'cross-block',
  'adjacent-layer',
  'adjacent-block',
] as const;
export type SharingScheme = (typeof SHARING_SCHEMES)[number];

/** CpRec's options (ignored when the run's method is 'none'). */
export const CPREC_OPTIONS = {
  cutPoints: numberListOption({
    label: 'Block cut points',
    help: 'Item-frequency ranks where blocks end (e.g. 700, 1700), or fractions of the vocabulary (0.2, 0.5); empty = one block',
    param: 'cuts',
    default: [0.2, 0.5],
    min: 0,
    max: 10_000_000,
    integer: false,
    minLength: 0,
    maxLength: 8,
    separator: ',',
  }),
  factor: numberOption({
    label: 'Dimension factor f',
    help: 'Block k has dimension d / f^(k-1) (official: 4)',
    param: 'factor',
    default: 4,
    min: 1,
    max: 64,
    integer: true,
  }),
  sharing: choiceOption({
    label: 'Parameter sharing',
    help: 'Which dilated-conv kernels of the residual blocks are one variable (LayerNorms never are)',
    param: 'share',
    default: 'cross-block',
    choices: [
      { value: 'none', label: 'none' },
      { value: 'cross-layer', label: 'cross-layer: one kernel for all convs' },
      { value: 'cross-block', label: 'cross-block: conv1s share, conv2s share' },
      { value: 'adjacent-layer', label: 'adjacent-layer: both convs of a block' },
      { value: 'adjacent-block', label: 'adjacent-block: blocks (0,1), (2,3)...' },
    ],
  }),
};
export type CpRecConfig = OptionValues<typeof CPREC_OPTIONS>;

export type SeqMethodId = 'none' | 'cprec';
export const SEQ_METHODS: readonly { id: SeqMethodId; label: string; summary: string }[] = [
  {
    id: 'none',
    label: 'None (NextItNet)',
    summary: 'The uncompressed NextItNet: full item embedding and softmax, no sharing',
  },
  {
    id: 'cprec',
    label: 'CpRec',
    summary:
      'Frequency blocks with smaller tail embeddings, adaptive softmax, and shared conv kernels (Sun et al., SIGIR 2020)',
  },
];

export interface SeqRunConfig {
  source: 'synthetic' | 'loaded';
  data: SeqSyntheticConfig;
  train: SeqTrainConfig;
  method: SeqMethodId;
  cprec: CpRecConfig;
}

export const DEFAULT_SEQ_DATA: SeqSyntheticConfig = defaultsOf(SEQ_DATA_OPTIONS);
export const DEFAULT_SEQ_TRAIN: SeqTrainConfig = defaultsOf(SEQ_TRAIN_OPTIONS);
export const DEFAULT_CPREC: CpRecConfig = defaultsOf(CPREC_OPTIONS);
export const DEFAULT_SEQ_RUN: SeqRunConfig = {
  source: 'synthetic',
  data: DEFAULT_SEQ_DATA,
  train: DEFAULT_SEQ_TRAIN,
  method: 'cprec',
  cprec: DEFAULT_CPREC,
};

/** The architecture a config builds over `numItems` items. */
export interface SeqArchitecture {
  numItems: number;
  dim: number;
  dilations: number[];
  /** Rank boundaries: block k holds items c[k-1]+1..c[k] (ids are frequency ranks, 1-based); the last is numItems. */
  cuts: number[];
  /** Dimension of each block. */
  blockDims: number[];
  sharing: SharingScheme;
}

/**
 * Resolves cut points (ranks, or fractions of the vocabulary when every one is below 1) into
 * rank boundaries ending at numItems. Throws with a message a user can act on when a cut is
 * outside the vocabulary or the cuts are not increasing.
 */
export function resolveCuts(cutPoints: readonly number[], numItems: number): number[] {
  const fractions = cutPoints.length > 0 && cutPoints.every((c) => c > 0 && c < 1);
  const ranks = cutPoints.map((c) => (fractions ? Math.round(c * numItems) : c));
  let prev = 0;
  for (let i = 0; i < ranks.length; i++) {
    const r = ranks[i];
    const shown = fractions ? `${cutPoints[i]} (rank ${r})` : String(cutPoints[i]);
    if (!Number.isInteger(r)) {
      throw new Error(
        `Cut point ${shown} is not a whole rank: give ranks (e.g. 700, 1700) or fractions below 1 (e.g. 0.2, 0.5)`,
      );
    }
    if (r <= 0 || r >= numItems) {
      throw new Error(
        `Cut point ${shown} is outside the vocabulary: cuts must lie between 1 and ${numItems - 1} (the data has ${numItems} items)`,
      );
    }
    if (r <= prev) throw new Error(`Cut points must increase: ${shown} comes after ${prev}`);
    prev = r;
  }
  return [...ranks, numItems];
}

/** The architecture of a run over `numItems` items (throws on an unusable config). */
export function architectureOf(config: SeqRunConfig, numItems: number): SeqArchitecture {
  const dim = config.train.embeddingDim;
  const dilations = [...config.train.dilations];
  if (config.method === 'none') {
    return { numItems, dim, dilations, cuts: [numItems], blockDims: [dim], sharing: 'none' };
  }
  const cuts = resolveCuts(config.cprec.cutPoints, numItems);
  const f = config.cprec.factor;
  const blockDims = cuts.map((_, k) => Math.floor(dim / f ** k));
  const tooSmall = blockDims.findIndex((b) => b < 1);
  if (tooSmall >= 0) {
    throw new Error(
      `Block ${tooSmall + 1} would have dimension ${dim}/${f}^${tooSmall} < 1: use fewer blocks, a smaller factor or a larger dimension`,
    );
  }
  return { numItems, dim, dilations, cuts, blockDims, sharing: config.cprec.sharing };
}

/**
 * Kernel index of each conv: conv j of block b is conv 2b + j. Returns one index per conv into
 * the list of distinct kernels.
 */
export function kernelAssignment(numConvs: number, sharing: SharingScheme): number[] {
  const out: number[] = [];
  for (let c = 0; c < numConvs; c++) {
    const block = Math.floor(c / 2);
    const inBlock = c % 2;
    switch (sharing) {
      case 'none':
        out.push(c);
        break;
      case 'cross-layer':
        out.push(0);
        break;
      case 'cross-block':
        out.push(inBlock);
        break;
      case 'adjacent-layer':
        out.push(block);
        break;
      case 'adjacent-block':
        out.push(2 * Math.floor(block / 2) + inBlock);
        break;
    }
  }
  // Renumber to 0..distinct-1 in order of first use.
  const seen = new Map<number, number>();
  return out.map((k) => {
    if (!seen.has(k)) seen.set(k, seen.size);
    return seen.get(k)!;
  });
}

export interface SeqParamCounts {
  /** Item embeddings and the tail blocks' projections. */
  input: number;
  /** Distinct conv kernels (3·d·d + d each) and every LayerNorm (2·d each). */
  middle: number;
  /** Softmax: the full softmax's matrix and bias, or the head matrix (items + one cluster per tail block, no bias) with tail Q_k and F_k. */
  softmax: number;
  total: number;
  distinctKernels: number;
}

/** Parameters of each part, by the analytic formula (the model's variables must add up to it). */
export function seqParamCounts(a: SeqArchitecture): SeqParamCounts {
  const d = a.dim;
  const K = a.cuts.length;
  let input = 0;
  let softmax = 0;
  for (let k = 0; k < K; k++) {
    const size = a.cuts[k] - (k === 0 ? 0 : a.cuts[k - 1]);
    const dk = a.blockDims[k];
    if (k === 0) {
      input += size * d;
      // The official full softmax has a bias; its block-wise head has none.
      softmax += (K === 1 ? d + 1 : d) * (size + K - 1);
    } else {
      input += size * dk + dk * d;
      softmax += d * dk + dk * size;
    }
  }
  const distinctKernels = new Set(kernelAssignment(a.dilations.length, a.sharing)).size;
  const middle = distinctKernels * (3 * d * d + d) + a.dilations.length * 2 * d;
  return { input, middle, softmax, total: input + middle + softmax, distinctKernels };
}

/** The uncompressed NextItNet over the same items and training settings. */
export function uncompressedOf(a: SeqArchitecture): SeqArchitecture {
  return { ...a, cuts: [a.numItems], blockDims: [a.dim], sharing: 'none' };
}

export type SeqConfigErrors = Partial<Record<string, string>>;

/** Every field checked, as validateRunConfig does for CTR runs; empty = valid. */
export function validateSeqRunConfig(config: SeqRunConfig): SeqConfigErrors {
  if (typeof config !== 'object' || config === null)
    return { config: 'The config must be an object' };
  const errors: SeqConfigErrors = {};
  if (config.source !== 'synthetic' && config.source !== 'loaded')
    errors.source = `Data source must be "synthetic" or "loaded", got "${String(config.source)}"`;
  if (config.source === 'synthetic')
    Object.assign(errors, validateOptions(SEQ_DATA_OPTIONS, config.data, 'data.', 'data'));
  Object.assign(errors, validateOptions(SEQ_TRAIN_OPTIONS, config.train, 'train.', 'train'));
  if (!errors['train.dilations'] && config.train.dilations.length % 2 !== 0)
    errors['train.dilations'] =
      'Dilations come in pairs: each residual block has two convs (e.g. 1-2-4-8)';
  if (config.method !== 'none' && config.method !== 'cprec')
    errors['method.id'] = `Unknown sequence method "${String(config.method)}" (none or cprec)`;
  if (config.method === 'cprec')
    Object.assign(errors, validateOptions(CPREC_OPTIONS, config.cprec, 'cprec.', 'CpRec options'));
  return errors;
}

/** Ranking metrics of the last position of held-out sequences, over all items. */
export interface RankingMetrics {
  mrr5: number;
  mrr20: number;
  hr5: number;
  hr20: number;
  ndcg5: number;
  ndcg20: number;
  /** Sequences scored. */
  count: number;
}

export const RANKING_METRIC_KEYS = ['mrr5', 'mrr20', 'hr5', 'hr20', 'ndcg5', 'ndcg20'] as const;
export const RANKING_METRIC_LABELS: Record<(typeof RANKING_METRIC_KEYS)[number], string> = {
  mrr5: 'MRR@5',
  mrr20: 'MRR@20',
  hr5: 'HR@5',
  hr20: 'HR@20',
  ndcg5: 'NDCG@5',
  ndcg20: 'NDCG@20',
};

export interface SeqDatasetSummary {
  source: 'synthetic' | 'loaded';
  name: string;
  numSequences: number;
  maxLen: number;
  numItems: number;
  /** Item frequencies in rank order (index 0 = the most frequent item). */
  frequencies: number[];
  splitSizes: { train: number; validation: number; test: number };
  /** The most-popular-item baseline on the test split. */
  popularityTest: RankingMetrics;
}

export interface SeqEvaluation {
  step: number;
  epoch: number;
  /** Mean training loss since the previous evaluation. */
  trainLoss: number;
  validation: RankingMetrics;
  seconds: number;
}

export interface SeqProgressBatch {
  steps: Int32Array;
  losses: Float32Array;
  stepMs: Float32Array;
  epoch: number;
  totalSteps: number;
  memory: MemoryInfo;
}

export type SeqEngineEvent =
  | { type: 'dataset'; summary: SeqDatasetSummary }
  | {
      type: 'architecture';
      params: SeqParamCounts;
      uncompressed: SeqParamCounts;
      arch: SeqArchitecture;
    }
  | { type: 'progress'; batch: SeqProgressBatch }
  | { type: 'evaluation'; evaluation: SeqEvaluation }
  | { type: 'state'; state: RunState }
  | { type: 'marker'; step: number; label: string };

/** What the lab shows of a sequence model file it opened (format recsys-lab-sequence-model). */
export interface SequenceModelCard {
  kind: 'sequence';
  fileName: string;
  fileBytes: number;
  createdAt: string;
  labVersion: string;
  method: SeqMethodId;
  methodLabel: string;
  datasetName: string;
  numItems: number;
  maxLen: number;
  arch: SeqArchitecture;
  /** Parameters per part (input, middle, softmax) and 4 bytes each as stored. */
  parts: { part: string; params: number; bytes: number }[];
  params: number;
  uncompressedParams: number;
  compressionRatio: number;
  metrics: {
    validation: RankingMetrics | null;
    test: RankingMetrics | null;
    popularityTest: RankingMetrics | null;
  };
}

/** An opened sequence model scored on the test split of the sequences the form names. */
export interface SequenceModelEvaluation {
  test: RankingMetrics;
  /** The most-popular baseline on the same sequences. */
  popularityTest: RankingMetrics;
  /** Test sequences skipped for holding no item the model knows, and unknown items skipped. */
  skippedSequences: number;
  unknownItems: number;
}

export interface SeqTiming {
  /** Median milliseconds of a training step. */
  msPerStep: number;
  /** Milliseconds to score 1,000 sequences over all items (full distribution). */
  inferenceMsPer1000: number;
}

export interface SeqRunResult {
  method: SeqMethodId;
  backend: BackendName | 'wasm' | 'cpu';
  arch: SeqArchitecture;
  params: SeqParamCounts;
  uncompressedParams: SeqParamCounts;
  /** Uncompressed parameters / this model's parameters. */
  compressionRatio: number;
  steps: number;
  stoppedEarly: boolean;
  stopReason: string | null;
  evaluations: SeqEvaluation[];
  best: SeqEvaluation | null;
  /** The test split scored with the best validation weights. */
  test: RankingMetrics | null;
  /** The most-popular-item baseline on the same test sequences. */
  popularityTest: RankingMetrics;
  timing: SeqTiming;
  /** The uncompressed model timed on the same backend and batches (CpRec runs only). */
  uncompressedTiming: SeqTiming | null;
  /** Fast top-20 over the test sequences: ms per 1,000 and the share of tail blocks expanded. */
  fastTopK: { msPer1000: number; blocksExpandedShare: number } | null;
  seconds: number;
}
