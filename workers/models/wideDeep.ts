/**
 * Wide & Deep as torchfm's WideAndDeepModel (the library the PEP code builds on):
 *   logit = FeaturesLinear(x) + MLP(embeddings.view(B, M*d))
 * wide: its own 1-d table (N(0,1) init, as nn.Embedding) + a zero bias, like FM's linear term;
 * deep: [Linear -> BatchNorm -> ReLU -> Dropout] x n -> Linear(-> 1).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import { HostEmbeddingTable, type SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import { lookupRows } from '../embedding/rowLookup';
import type { ModelSummary } from '../protocol';
import { buildVariables } from './blocks';
import { Mlp, uniqueVariableName } from './layers';
import { buildFeatureTables } from './featureTables';
import type { RankingForwardInputs, RankingModel } from './rankingModel';

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
  readonly embedding: HostEmbeddingTable;
  /** The wide (first-order) term: not pruned, not counted as embedding. */
  readonly linear: HostEmbeddingTable;
  readonly bias: tf.Variable;
  readonly mlp: Mlp;

  constructor(
    readonly config: WideDeepConfig,
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

  get tables(): HostEmbeddingTable[] {
    return [this.embedding, this.linear];
  }

  get stateVariables(): tf.Variable[] {
    return this.mlp.stateVariables;
  }

  get denseVariables(): tf.Variable[] {
    return [this.bias, ...this.mlp.variables];
  }

  forward(inputs: RankingForwardInputs, training: boolean): tf.Tensor1D {
    const { batchSize: b, localIndex, dropoutSeed } = inputs;
    const [embeddingRows, linearRows] = inputs.tableRows;
    const m = this.config.numFields;
    const d = this.config.embeddingDim;
    const wide = lookupRows(linearRows, localIndex).reshape([b, m]).sum(1).add(this.bias);
    const deep = this.mlp.apply(
      lookupRows(embeddingRows, localIndex).reshape([b, m * d]),
      training,
      dropoutSeed,
    );
    return wide.add(deep.reshape([b])) as tf.Tensor1D;
  }

  summary(): ModelSummary {
    const parts = [
      { part: 'embedding', params: this.embedding.numRows * this.config.embeddingDim },
      { part: 'linear', params: this.linear.numRows + 1 },
      { part: 'mlp', params: this.mlp.numParams },
    ];
    // Wide: a sum over M fields; deep: the MLP.
    const flops = this.config.numFields + this.mlp.flopsPerExample;
    return { parts, totalParams: parts.reduce((a, p) => a + p.params, 0), flopsPerExample: flops };
  }

  dispose(): void {
    this.bias.dispose();
    for (const v of [...this.mlp.variables, ...this.mlp.stateVariables]) v.dispose();
  }
}
