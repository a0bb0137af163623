/**
 * FM and DeepFM over host-resident embedding tables.
 *
 * Inputs of a forward pass are the table rows a batch touches (uploaded as small [U, d] tensors)
 * and, for each (example, field), the position of its row in that block. The gather's gradient
 * therefore lands on the [U, d] block only; it is read back and applied on the host.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelKind } from '../protocol';
import type { Rng } from '../rng';
import type { HostEmbeddingTable, SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { FeatureEmbedding } from '../embedding/featureEmbedding';
import type { RowStore } from '../embedding/rowStore';
import { lookupRows } from '../embedding/rowLookup';
import { Mlp, uniqueVariableName } from './layers';
import { fmInteraction } from './fmInteraction';
import { buildVariables } from './blocks';
import { buildLinearTable } from './featureTables';
import {
  buildFeatureEmbedding,
  densePart,
  type ModelBuildOptions,
  type ModelShape,
  type RankingForwardInputs,
  type RankingModel,
} from './rankingModel';

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
  readonly embedding: FeatureEmbedding;
  /** FM's first-order term: its own 1-d table (not pruned, not counted as embedding). */
  readonly linear: HostEmbeddingTable;
  readonly bias: tf.Variable;
  readonly mlp: Mlp | null;

  constructor(
    readonly config: CtrModelConfig,
    embeddingOptimizer: SparseOptimizerConfig,
    rng: Rng,
    options: ModelBuildOptions = {},
  ) {
    this.embedding = buildFeatureEmbedding(
      config.numFields,
      config.vocabulary,
      config.embeddingDim,
      { kind: 'xavier-uniform' },
      embeddingOptimizer,
      rng.fork(11),
      options,
    );
    this.linear = buildLinearTable(config.vocabulary, embeddingOptimizer, rng.fork(12), options);
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

  get tables(): RowStore[] {
    return [...this.embedding.stores, this.linear];
  }

  get stateVariables(): tf.Variable[] {
    return [...this.embedding.stateVariables, ...(this.mlp ? this.mlp.stateVariables : [])];
  }

  get denseVariables(): tf.Variable[] {
    return [...this.embedding.variables, this.bias, ...(this.mlp ? this.mlp.variables : [])];
  }

  /** Logits, shape [B]. */
  forward(inputs: RankingForwardInputs, training: boolean): tf.Tensor1D {
    const { batchSize: b, localIndex, dropoutSeed } = inputs;
    const k = this.embedding.stores.length;
    const linearRows = inputs.tableRows[k];
    const m = this.config.numFields;
    const d = this.config.embeddingDim;
    const emb = this.embedding
      .lookup(inputs.tableRows.slice(0, k), localIndex, b, training)
      .reshape([b, m, d]);
    const firstOrder = lookupRows(linearRows, localIndex).reshape([b, m]).sum(1).add(this.bias);
    // FM second-order term: 0.5 * sum_k [(sum_i v_ik)^2 - sum_i v_ik^2].
    const fm = fmInteraction(emb as tf.Tensor3D);
    let logit = firstOrder.add(fm) as tf.Tensor1D;
    if (this.mlp) {
      const deep = this.mlp.apply(emb.reshape([b, m * d]), training, dropoutSeed);
      logit = logit.add(deep.reshape([b]));
    }
    return logit;
  }

  shape(): ModelShape {
    const m = this.config.numFields;
    const d = this.config.embeddingDim;
    const parts = [...this.embedding.parts(), densePart('linear', this.linear.numRows + 1)];
    // FM: sum over fields and squares (about 3*M*d) plus the linear sum (M).
    let flops = 3 * m * d + m;
    if (this.mlp) {
      parts.push(densePart('mlp', this.mlp.numParams));
      flops += this.mlp.flopsPerExample;
    }
    return { parts, flopsPerExample: flops };
  }

  dispose(): void {
    this.embedding.dispose();
    this.bias.dispose();
    if (this.mlp) for (const v of [...this.mlp.variables, ...this.mlp.stateVariables]) v.dispose();
  }
}
