/**
 * Figures of a next-item run (NextItNet or CpRec) that the runs table, the Pareto chart and the
 * run card share: its method as a label, its size in bytes and FLOPs, its best validation and
 * test metrics. Pure (no React, no tfjs).
 */
import {
  CPREC_OPTIONS,
  type SeqArchitecture,
  type SeqDatasetSummary,
  type SeqEvaluation,
  type SeqRunConfig,
  type SeqRunResult,
  type SharingScheme,
} from '../../workers/sequence/seqProtocol';
import type { SeqRunDataset } from './runRecords';

/** The model every next-item run trains (CpRec compresses it). */
export const SEQ_MODEL_LABEL = 'NextItNet';

export const SHARING_TEXT: Record<SharingScheme, string> = {
  none: 'no sharing',
  'cross-layer': 'cross-layer sharing',
  'cross-block': 'cross-block sharing',
  'adjacent-layer': 'adjacent-layer sharing',
  'adjacent-block': 'adjacent-block sharing',
};

/** "NextItNet", or CpRec with its sharing: "CpRec (cross-block)", "CpRec (no sharing)". */
export function seqMethodLabel(config: Pick<SeqRunConfig, 'method' | 'cprec'>): string {
  if (config.method !== 'cprec') return SEQ_MODEL_LABEL;
  const sharing = config.cprec.sharing;
  return `CpRec (${sharing === 'none' ? 'no sharing' : sharing})`;
}

/** The method as the compare charts colour it: 'nextitnet', or 'cprec-<sharing>'. */
export function seqMethodKey(config: Pick<SeqRunConfig, 'method' | 'cprec'>): string {
  return config.method === 'cprec' ? `cprec-${config.cprec.sharing}` : 'nextitnet';
}

/** CpRec's options as "label = value" (empty for the uncompressed NextItNet). */
export function seqOptionsSummary(config: SeqRunConfig): string {
  if (config.method !== 'cprec') return '';
  const c = config.cprec;
  const cuts = c.cutPoints.length > 0 ? c.cutPoints.join(', ') : 'none (one block)';
  return [
    `${CPREC_OPTIONS.cutPoints.label} = ${cuts}`,
    `${CPREC_OPTIONS.factor.label} = ${c.factor}`,
    `${CPREC_OPTIONS.sharing.label} = ${c.sharing}`,
  ].join(' · ');
}

/** How long the run was asked to train: epochs, or a step budget. */
export function seqTrainingBudget(config: SeqRunConfig): string {
  const t = config.train;
  return t.maxSteps > 0 ? `${t.maxSteps} steps (≤ ${t.epochs} epochs)` : `${t.epochs} epochs`;
}

/** What a record keeps of the engine's description of the data (the frequencies left out). */
export function seqRunDatasetOf(summary: SeqDatasetSummary): SeqRunDataset {
  return {
    source: summary.source,
    name: summary.name,
    numSequences: summary.numSequences,
    maxLen: summary.maxLen,
    numItems: summary.numItems,
    popularityTest: summary.popularityTest,
  };
}

/** Bytes of the model's float32 parameters. */
export function seqModelBytes(params: number): number {
  return 4 * params;
}

/**
 * FLOPs (2 x multiply-adds, as the click-through models count them) to score the next item of one
 * sequence over every item: each dilated conv (kernel 3, d to d) at each of the sequence's
 * `positions`, then the last position against the softmax (CpRec's head with its cluster rows,
 * and every tail block's projection and items). LayerNorms, biases and the tail blocks' input
 * projections are left out (small beside these).
 */
export function seqFlopsPerSequence(arch: SeqArchitecture, positions: number): number {
  const d = arch.dim;
  const convs = arch.dilations.length * 3 * d * d * Math.max(1, positions);
  const K = arch.cuts.length;
  let softmax = 0;
  for (let k = 0; k < K; k++) {
    const size = arch.cuts[k] - (k === 0 ? 0 : arch.cuts[k - 1]);
    const dk = arch.blockDims[k];
    softmax += k === 0 ? d * (size + K - 1) : d * dk + dk * size;
  }
  return 2 * (convs + softmax);
}

/** FLOPs per sequence of a finished run, NaN when the data's length is not known. */
export function seqRunFlops(result: SeqRunResult, dataset: SeqRunDataset | null): number {
  return dataset ? seqFlopsPerSequence(result.arch, dataset.maxLen) : Number.NaN;
}

/**
 * The evaluation whose weights the run kept: the result's best, else the evaluation with the
 * highest validation MRR@20 (null when the run never evaluated).
 */
export function seqBestEvaluation(
  result: SeqRunResult | null,
  evaluations: readonly SeqEvaluation[],
): SeqEvaluation | null {
  if (result?.best) return result.best;
  let best: SeqEvaluation | null = null;
  for (const e of result?.evaluations ?? evaluations) {
    if (!best || e.validation.mrr20 > best.validation.mrr20) best = e;
  }
  return best;
}
