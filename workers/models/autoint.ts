/**
 * AutoInt as the PEP code runs it (models/modules.py, class AutoInt(DeepFM)):
 *   xv = embedding(x)                                   [B, M, d]
 *   a  = Linear(d -> E)(xv)                             E = atten_embed_dim (64)
 *   a  = MultiheadAttention(a, a, a) x num_layers       (2 heads, 3 layers, att_dropout 0)
 *   a += V_res Linear(d -> E)(xv)                       when has_residual
 *   score = Linear(M*E -> 1)(relu(a).view(B, M*E))
 *   score += DeepFM's MLP(xv.view(B, M*d))              when full_part
 * The class inherits DeepFM's linear and FM modules but its forward never uses them, so they are
 * left out here (in the PEP code they only receive weight decay).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import type { SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { FeatureEmbedding } from '../embedding/featureEmbedding';
import type { RowStore } from '../embedding/rowStore';
import { MultiheadSelfAttention } from './attention';
import { buildVariables } from './blocks';
import { Linear, Mlp } from './layers';
import {
  buildFeatureEmbedding,
  densePart,
  type ModelBuildOptions,
  type ModelShape,
  type RankingForwardInputs,
  type RankingModel,
} from './rankingModel';

export interface AutoIntConfig {
  numFields: number;
  vocabulary: number;
  embeddingDim: number;
  /** E: width of the attention (atten_embed_dim). */
  attentionDim: number;
  numHeads: number;
  numLayers: number;
  /** Dropout on the attention weights (att_dropout). */
  attentionDropout: number;
  /** V_res: add Linear(d -> E) of the embeddings to the attention output. */
  residual: boolean;
  /** Add the DNN part (DeepFM's MLP over the concatenated embeddings). */
  fullPart: boolean;
  mlpLayers: number[];
  dropout: number;
  batchNorm: boolean;
}

/** PEP's train_criteo.py / train_avazu.py settings (latent_dim 24; 32 for ML-1M). */
export const DEFAULT_AUTOINT_CONFIG: Omit<AutoIntConfig, 'numFields' | 'vocabulary'> = {
  embeddingDim: 24,
  attentionDim: 64,
  numHeads: 2,
  numLayers: 3,
  attentionDropout: 0,
  residual: true,
  fullPart: true,
  mlpLayers: [400, 400, 400],
  dropout: 0.2,
  batchNorm: true,
};

/** Salt added to the step's dropout seed for attention dropout (the MLP uses seed + layer). */
const ATTENTION_DROPOUT_SALT = 7919;

export class AutoIntModel implements RankingModel {
  readonly name = 'AutoInt';
  readonly embedding: FeatureEmbedding;
  readonly attentionEmbedding: Linear;
  readonly attentionLayers: MultiheadSelfAttention[];
  readonly residualEmbedding: Linear | null;
  readonly attentionOutput: Linear;
  readonly mlp: Mlp | null;

  constructor(
    readonly config: AutoIntConfig,
    embeddingOptimizer: SparseOptimizerConfig,
    rng: Rng,
    options: ModelBuildOptions = {},
  ) {
    const { numFields: m, embeddingDim: d, attentionDim: e } = config;
    this.embedding = buildFeatureEmbedding(
      m,
      config.vocabulary,
      d,
      { kind: 'xavier-uniform' },
      embeddingOptimizer,
      rng.fork(11),
      options,
    );
    const denseRng = rng.fork(14);
    this.attentionEmbedding = buildVariables(() => new Linear(d, e, denseRng, 'autoint_atten_emb'));
    this.attentionLayers = Array.from(
      { length: config.numLayers },
      (_, i) =>
        new MultiheadSelfAttention(
          e,
          config.numHeads,
          config.attentionDropout,
          denseRng,
          `autoint_mha${i}`,
        ),
    );
    this.attentionOutput = buildVariables(() => new Linear(m * e, 1, denseRng, 'autoint_atten_fc'));
    this.residualEmbedding = config.residual
      ? buildVariables(() => new Linear(d, e, denseRng, 'autoint_vres'))
      : null;
    this.mlp = config.fullPart
      ? buildVariables(
          () =>
            new Mlp(
              {
                inputSize: m * d,
                hidden: config.mlpLayers,
                dropout: config.dropout,
                batchNorm: config.batchNorm,
                outputLayer: true,
              },
              rng.fork(13),
              'autoint_mlp',
            ),
        )
      : null;
  }

  get numFields(): number {
    return this.config.numFields;
  }

  get tables(): RowStore[] {
    return this.embedding.stores;
  }

  get attentionVariables(): tf.Variable[] {
    return [
      ...this.attentionEmbedding.variables,
      ...this.attentionLayers.flatMap((a) => a.variables),
      ...(this.residualEmbedding ? this.residualEmbedding.variables : []),
      ...this.attentionOutput.variables,
    ];
  }

  get stateVariables(): tf.Variable[] {
    return [...this.embedding.stateVariables, ...(this.mlp ? this.mlp.stateVariables : [])];
  }

  get denseVariables(): tf.Variable[] {
    return [
      ...this.embedding.variables,
      ...this.attentionVariables,
      ...(this.mlp ? this.mlp.variables : []),
    ];
  }

  forward(inputs: RankingForwardInputs, training: boolean): tf.Tensor1D {
    const { batchSize: b, localIndex, dropoutSeed } = inputs;
    const { numFields: m, embeddingDim: d, attentionDim: e } = this.config;
    const flatEmb = this.embedding.lookup(inputs.tableRows, localIndex, b, training); // [B*M, d]
    let cross = this.attentionEmbedding.apply(flatEmb).reshape([b, m, e]) as tf.Tensor3D;
    this.attentionLayers.forEach((layer, i) => {
      cross = layer.apply(cross, training, dropoutSeed + ATTENTION_DROPOUT_SALT + i);
    });
    if (this.residualEmbedding) {
      cross = cross.add(this.residualEmbedding.apply(flatEmb).reshape([b, m, e]));
    }
    let logit = this.attentionOutput.apply(tf.relu(cross).reshape([b, m * e]));
    if (this.mlp)
      logit = logit.add(this.mlp.apply(flatEmb.reshape([b, m * d]), training, dropoutSeed));
    return logit.reshape([b]);
  }

  shape(): ModelShape {
    const { numFields: m, embeddingDim: d, attentionDim: e } = this.config;
    const attentionParams =
      this.attentionEmbedding.numParams +
      this.attentionLayers.reduce((a, l) => a + l.numParams, 0) +
      (this.residualEmbedding?.numParams ?? 0) +
      this.attentionOutput.numParams;
    const parts = [...this.embedding.parts(), densePart('attention', attentionParams)];
    // 2 x multiply-adds: per-field projections, attention layers, output layer (+ MLP).
    let flops =
      2 * m * d * e * (this.residualEmbedding ? 2 : 1) +
      this.attentionLayers.reduce((a, l) => a + l.flopsPerSequence(m), 0) +
      2 * m * e;
    if (this.mlp) {
      parts.push(densePart('mlp', this.mlp.numParams));
      flops += this.mlp.flopsPerExample;
    }
    return { parts, flopsPerExample: flops };
  }

  dispose(): void {
    this.embedding.dispose();
    for (const v of this.attentionVariables) v.dispose();
    if (this.mlp) for (const v of [...this.mlp.variables, ...this.mlp.stateVariables]) v.dispose();
  }
}
