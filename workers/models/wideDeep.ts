/**
 * Wide & Deep as torchfm's WideAndDeepModel (the library the PEP code builds on):
 *   logit = FeaturesLinear(x) + MLP(embeddings.view(B, M*d))
 * wide: its own 1-d table (N(0,1) init, as nn.Embedding) + a zero bias, like FM's linear term;
 * deep: [Linear -> BatchNorm -> ReLU -> Dropout] x n -> Linear(-> 1).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import type { HostEmbeddingTable, SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { FeatureEmbedding } from '../embedding/featureEmbedding';
import type { RowStore } from '../embedding/rowStore';
import { lookupRows } from '../embedding/rowLookup';
import { buildVariables } from './blocks';
import { Mlp, uniqueVariableName } from './layers';
import { buildLinearTable } from './featureTables';
import {
  buildFeatureEmbedding,
  densePart,
  type ModelBuildOptions,
  type ModelShape,
  type RankingForwardInputs,
  type RankingModel,
} from './rankingModel';

export interface WideDeepConfig {
  numFields: number;
  vocabulary: number;
  embeddingDim: number;
  mlpLayers: number[];
  dropout: number;
  batchNorm: boolean;
}

/** Same deep part as PEP's DeepFM on Criteo/Avazu. */
export const DEFAULT_WIDE_DEEP_CONFIG: Omit<WideDeepConfig, 'numFields' | 'vocabulary'> = {
  embeddingDim: 24,
  mlpLayers: [400, 400, 400],
  dropout: 0.2,
  batchNorm: true,
};

export class WideDeepModel implements RankingModel {
  readonly name = 'Wide&Deep';
  readonly embedding: FeatureEmbedding;
  /** The wide (first-order) term: not pruned, not counted as embedding. */
  readonly linear: HostEmbeddingTable;
  readonly bias: tf.Variable;
  readonly mlp: Mlp;

  constructor(
    readonly config: WideDeepConfig,
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
    this.bias = buildVariables(() =>
      tf.variable(tf.zeros([1]), true, uniqueVariableName('wide_bias')),
    );
    this.mlp = buildVariables(
      () =>
        new Mlp(
          {
            inputSize: config.numFields * config.embeddingDim,
            hidden: config.mlpLayers,
            dropout: config.dropout,
            batchNorm: config.batchNorm,
            outputLayer: true,
          },
          rng.fork(13),
          'wide_deep_mlp',
        ),
    );
  }

  get numFields(): number {
    return this.config.numFields;
  }

  get tables(): RowStore[] {
    return [...this.embedding.stores, this.linear];
  }

  get stateVariables(): tf.Variable[] {
    return [...this.embedding.stateVariables, ...this.mlp.stateVariables];
  }

  get denseVariables(): tf.Variable[] {
    return [...this.embedding.variables, this.bias, ...this.mlp.variables];
  }

  forward(inputs: RankingForwardInputs, training: boolean): tf.Tensor1D {
    const { batchSize: b, localIndex, dropoutSeed } = inputs;
    const k = this.embedding.stores.length;
    const m = this.config.numFields;
    const d = this.config.embeddingDim;
    const wide = lookupRows(inputs.tableRows[k], localIndex).reshape([b, m]).sum(1).add(this.bias);
    const deep = this.mlp.apply(
      this.embedding
        .lookup(inputs.tableRows.slice(0, k), localIndex, b, training)
        .reshape([b, m * d]),
      training,
      dropoutSeed,
    );
    return wide.add(deep.reshape([b])) as tf.Tensor1D;
  }

  shape(): ModelShape {
    const parts = [
      ...this.embedding.parts(),
      densePart('linear', this.linear.numRows + 1),
      densePart('mlp', this.mlp.numParams),
    ];
    // Wide: a sum over M fields; deep: the MLP.
    return { parts, flopsPerExample: this.config.numFields + this.mlp.flopsPerExample };
  }

  dispose(): void {
    this.embedding.dispose();
    this.bias.dispose();
    for (const v of [...this.mlp.variables, ...this.mlp.stateVariables]) v.dispose();
  }
}
