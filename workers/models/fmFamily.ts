/**
 * FM and DeepFM over host-resident embedding tables.
 *
 * Inputs of a forward pass are the table rows a batch touches (uploaded as small [U, d] tensors)
 * and, for each (example, field), the position of its row in that block. The gather's gradient
 * therefore lands on the [U, d] block only; it is read back and applied on the host.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelKind, ModelSummary } from '../protocol';
import type { Rng } from '../rng';
import { HostEmbeddingTable, type SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import { lookupRows } from '../embedding/rowLookup';
import { Mlp, uniqueVariableName } from './layers';
import { buildVariables } from './blocks';
import { buildFeatureTables } from './featureTables';
import type { RankingForwardInputs, RankingModel } from './rankingModel';

export interface CtrModelConfig {
  kind: ModelKind;
  numFields: number;
  vocabulary: number;
  embeddingDim: number;
  mlpLayers: number[];
  dropout: number;
  batchNorm: boolean;
}

/** FM (kind 'fm') and DeepFM (kind 'deepfm', FM plus an MLP over the concatenated fields). */
export class FmFamilyModel implements RankingModel {
  readonly embedding: HostEmbeddingTable;
  /** FM's first-order term: its own 1-d table (not pruned, not counted as embedding). */
  readonly linear: HostEmbeddingTable;
  readonly bias: tf.Variable;
  readonly mlp: Mlp | null;

  constructor(
    readonly config: CtrModelConfig,
    embeddingOptimizer: SparseOptimizerConfig,
    rng: Rng,
  ) {
    const tables = buildFeatureTables(
      config.vocabulary,
      config.embeddingDim,
      embeddingOptimizer,
      rng,
    );
    this.embedding = tables.embedding;
    this.linear = tables.linear;
    // Built in a tidy: tf.variable(t) keeps t counted too, so the init tensors would leak.
    const { bias, mlp } = buildVariables(() => {
      const bias = tf.variable(tf.zeros([1]), true, uniqueVariableName('fm_bias'));
      const mlp =
        config.kind === 'deepfm'
          ? new Mlp(
              {
                inputSize: config.numFields * config.embeddingDim,
                hidden: config.mlpLayers,
                dropout: config.dropout,
                batchNorm: config.batchNorm,
                outputLayer: true,
              },
              rng.fork(13),
              'deepfm_mlp',
            )
          : null;
      return { bias, mlp };
    });
    this.bias = bias;
    this.mlp = mlp;
  }

  get name(): string {
    return this.config.kind === 'fm' ? 'FM' : 'DeepFM';
  }

  get numFields(): number {
    return this.config.numFields;
  }

  get tables(): HostEmbeddingTable[] {
    return [this.embedding, this.linear];
  }

  get stateVariables(): tf.Variable[] {
    return this.mlp ? this.mlp.stateVariables : [];
  }

  get denseVariables(): tf.Variable[] {
    return [this.bias, ...(this.mlp ? this.mlp.variables : [])];
  }

  /** Logits, shape [B]. */
  forward(inputs: RankingForwardInputs, training: boolean): tf.Tensor1D {
    const { batchSize: b, localIndex, dropoutSeed } = inputs;
    const [embeddingRows, linearRows] = inputs.tableRows;
    const m = this.config.numFields;
    const d = this.config.embeddingDim;
    const emb = lookupRows(embeddingRows, localIndex).reshape([b, m, d]);
    const firstOrder = lookupRows(linearRows, localIndex).reshape([b, m]).sum(1).add(this.bias);
    // FM second-order term: 0.5 * sum_k [(sum_i v_ik)^2 - sum_i v_ik^2].
    const sumSquare = emb.sum(1).square();
    const squareSum = emb.square().sum(1);
    const fm = sumSquare.sub(squareSum).sum(1).mul(0.5);
    let logit = firstOrder.add(fm) as tf.Tensor1D;
    if (this.mlp) {
      const deep = this.mlp.apply(emb.reshape([b, m * d]), training, dropoutSeed);
      logit = logit.add(deep.reshape([b]));
    }
    return logit;
  }

  summary(): ModelSummary {
    const m = this.config.numFields;
    const d = this.config.embeddingDim;
    const parts = [
      { part: 'embedding', params: this.embedding.numRows * d },
      { part: 'linear', params: this.linear.numRows + 1 },
    ];
    // FM: sum over fields and squares (about 3*M*d) plus the linear sum (M).
    let flops = 3 * m * d + m;
    if (this.mlp) {
      parts.push({ part: 'mlp', params: this.mlp.numParams });
      flops += this.mlp.flopsPerExample;
    }
    return { parts, totalParams: parts.reduce((a, p) => a + p.params, 0), flopsPerExample: flops };
  }

  dispose(): void {
    this.bias.dispose();
    if (this.mlp) for (const v of [...this.mlp.variables, ...this.mlp.stateVariables]) v.dispose();
  }
}
