/**
 * Scores item sequences with a sequence model file, in plain TypeScript (no tfjs, no DOM): the
 * NextItNet forward pass of the last position, then the adaptive softmax's full distribution (to
 * rank a held-out item) or its fast top-k (to recommend next items). Raw lines are read as the
 * lab reads them: comma-separated tokens, padding tokens and empty ones dropped; tokens the model
 * does not know are skipped and counted.
 */
import type { SequenceDataset } from '../data/preprocess/sequenceDataset';
import { HostAdaptiveSoftmax } from '../sequence/hostSoftmax';
import { popularityBaseline, RankingAccumulator } from '../sequence/rankingMetrics';
import type { DecodedSequenceModel } from '../sequence/seqModelFile';
import type { SequenceModelCard, SequenceModelEvaluation } from '../sequence/seqProtocol';

export interface ParsedSequenceLine {
  /** Item ids (1-based) of the known tokens, in order. */
  items: number[];
  /** Tokens the model does not know (skipped). */
  unknown: number;
}

export class SequenceScorer {
  private readonly idOfToken = new Map<string, number>();
  private readonly padding: Set<string>;
  readonly softmax: HostAdaptiveSoftmax;
  /** The input table [V + 1, d] (row 0 = padding, zeros), built once. */
  private readonly inputRows: Float32Array;

  constructor(readonly model: DecodedSequenceModel) {
    const { file, weights: w, arch } = model;
    file.dataset.itemTokens.forEach((t, i) => this.idOfToken.set(t, i + 1));
    this.padding = new Set(file.dataset.paddingTokens ?? ['-1']);
    const { dim: d, cuts, blockDims } = arch;
    this.inputRows = new Float32Array((arch.numItems + 1) * d);
    for (let k = 0; k < cuts.length; k++) {
      const start = k === 0 ? 0 : cuts[k - 1];
      const size = cuts[k] - start;
      const E = w.get(`input.E${k}`)!;
      const dk = blockDims[k];
      const P = k > 0 ? w.get(`input.P${k}`)! : null;
      for (let i = 0; i < size; i++) {
        const out = (start + i + 1) * d;
        if (!P) {
          this.inputRows.set(E.subarray(i * d, i * d + d), out);
          continue;
        }
        for (let a = 0; a < dk; a++) {
          const e = E[i * dk + a];
          for (let j = 0; j < d; j++) this.inputRows[out + j] += e * P[a * d + j];
        }
      }
    }
    this.softmax = new HostAdaptiveSoftmax({
      dim: d,
      cuts,
      blockDims,
      headW: w.get('softmax.H')!,
      headB: w.get('softmax.b') ?? null,
      tailQ: cuts.slice(1).map((_, i) => w.get(`softmax.Q${i + 1}`)!),
      tailF: cuts.slice(1).map((_, i) => w.get(`softmax.F${i + 1}`)!),
    });
  }

  /** Reads one raw line (comma-separated tokens) into the model's item ids. */
  parseLine(line: string): ParsedSequenceLine {
    const items: number[] = [];
    let unknown = 0;
    for (const raw of line.split(',')) {
      const token = raw.trim();
      if (token === '' || this.padding.has(token)) continue;
      const id = this.idOfToken.get(token);
      if (id === undefined) unknown++;
      else items.push(id);
    }
    return { items, unknown };
  }

  /** The model's id of a raw token, or undefined when it does not know it. */
  idOf(token: string): number | undefined {
    return this.idOfToken.get(token);
  }

  /** Refuses an item id the model does not have (ids run from 1 to the number of items). */
  private checkItem(id: number, what: string): void {
    const n = this.model.arch.numItems;
    if (!Number.isInteger(id) || id < 1 || id > n) {
      throw new RangeError(`${what} ${id} is outside the model's item ids 1 to ${n}`);
    }
  }

  tokenOf(id: number): string {
    return this.model.file.dataset.itemTokens[id - 1];
  }

  /**
   * The hidden state after `history` (item ids), as the lab computes it: the most recent
   * maxLen - 1 items, left-padded to that width, through every residual block.
   */
  lastHidden(history: readonly number[]): Float32Array {
    const { arch, weights: w, file } = this.model;
    const d = arch.dim;
    const T = file.dataset.maxLen - 1;
    const eps = file.architecture.layerNormEps;
    const recent = history.slice(Math.max(0, history.length - T));
    for (const id of history) this.checkItem(id, 'history item');
    let x = new Float32Array(T * d);
    recent.forEach((id, i) =>
      x.set(this.inputRows.subarray(id * d, id * d + d), (T - recent.length + i) * d),
    );
    const conv = (input: Float32Array, c: number): Float32Array => {
      const j = this.model.file.architecture.kernelOf[c];
      const W = w.get(`conv.W${j}`)!;
      const b = w.get(`conv.b${j}`)!;
      const r = arch.dilations[c];
      const y = new Float32Array(T * d);
      for (let t = 0; t < T; t++) {
        const row = y.subarray(t * d, t * d + d);
        row.set(b);
        for (let tap = 0; tap < 3; tap++) {
          const src = t - (2 - tap) * r;
          if (src < 0) continue;
          for (let a = 0; a < d; a++) {
            const v = input[src * d + a];
            if (v === 0) continue;
            const wr = (tap * d + a) * d;
            for (let o = 0; o < d; o++) row[o] += v * W[wr + o];
          }
        }
      }
      // LayerNorm over the channels, then ReLU.
      const g = w.get(`ln.gamma${c}`)!;
      const be = w.get(`ln.beta${c}`)!;
      for (let t = 0; t < T; t++) {
        const row = y.subarray(t * d, t * d + d);
        let mean = 0;
        for (const v of row) mean += v;
        mean /= d;
        let variance = 0;
        for (const v of row) variance += (v - mean) ** 2;
        variance /= d;
        const inv = 1 / Math.sqrt(variance + eps);
        for (let o = 0; o < d; o++) row[o] = Math.max(0, (row[o] - mean) * inv * g[o] + be[o]);
      }
      return y;
    };
    for (let c = 0; c < arch.dilations.length; c += 2) {
      const h = conv(conv(x, c), c + 1);
      const next = new Float32Array(T * d);
      for (let i = 0; i < next.length; i++) next[i] = x[i] + h[i];
      x = next;
    }
    return x.slice((T - 1) * d, T * d);
  }

  /** 0-based rank (items scored strictly higher) of `target` after `history`. */
  rankOf(history: readonly number[], target: number): number {
    this.checkItem(target, 'target item');
    const logp = this.softmax.fullLogProbs(this.lastHidden(history));
    const score = logp[target - 1];
    let rank = 0;
    for (const v of logp) if (v > score) rank++;
    return rank;
  }

  /** The k most likely next items after `history` (ids, best first) and their log-probabilities. */
  topK(history: readonly number[], k: number): { ids: number[]; logProbs: number[] } {
    const { ids, logProbs } = this.softmax.topK(this.lastHidden(history), k);
    return { ids, logProbs };
  }
}

/** The card the lab shows of an opened sequence model file. */
export function sequenceCardOf(
  model: DecodedSequenceModel,
  fileName: string,
  fileBytes: number,
): SequenceModelCard {
  const { file, arch } = model;
  const plan = file.compression.plan;
  return {
    kind: 'sequence',
    fileName,
    fileBytes,
    createdAt: file.createdAt,
    labVersion: file.labVersion,
    method: file.compression.method,
    methodLabel: file.compression.label,
    datasetName: file.dataset.name,
    numItems: arch.numItems,
    maxLen: file.dataset.maxLen,
    arch,
    parts: (['input', 'middle', 'softmax'] as const).map((part) => ({
      part,
      params: plan.parameters[part],
      bytes: 4 * plan.parameters[part],
    })),
    params: plan.parameters.total,
    uncompressedParams: plan.uncompressedParameters.total,
    compressionRatio: plan.compressionRatio,
    metrics: {
      validation: file.metrics.validation,
      test: file.metrics.test,
      popularityTest: file.metrics.popularityTest,
    },
  };
}

/**
 * Ranks the last item of every test sequence of `ds` with the model, matching items by token
 * (items the model does not know are skipped and counted; so are sequences left with fewer than
 * two known items), beside the most-popular baseline of `ds`.
 */
export function evaluateSequenceModel(
  model: DecodedSequenceModel,
  ds: SequenceDataset,
): SequenceModelEvaluation {
  const scorer = new SequenceScorer(model);
  const acc = new RankingAccumulator();
  let skippedSequences = 0;
  let unknownItems = 0;
  const T = ds.maxLen;
  for (const row of ds.split.test) {
    const items: number[] = [];
    for (let t = 0; t < T; t++) {
      const id = ds.items[row * T + t];
      if (id === 0) continue;
      const known = scorer.idOf(ds.itemTokens[id - 1]);
      if (known === undefined) unknownItems++;
      else items.push(known);
    }
    if (items.length < 2) {
      skippedSequences++;
      continue;
    }
    acc.add(scorer.rankOf(items.slice(0, -1), items[items.length - 1]));
  }
  if (acc.result().count === 0)
    throw new Error(
      `None of the ${ds.split.test.length} test sequences of ${ds.name} has two items this model knows: is it the data the model was trained on?`,
    );
  return {
    test: acc.result(),
    popularityTest: popularityBaseline(ds, ds.split.train, ds.split.test),
    skippedSequences,
    unknownItems,
  };
}
