/**
 * DLRM as UMEC runs it (VITA-Group/UMEC joint_train.py, a copy of facebookresearch/dlrm):
 *   x = bottom MLP(dense)                    13-512-256-64-16, ReLU after EVERY layer (sigmoid_bot=-1)
 *   z = cat(x, e_1, ..., e_M)                --arch-interaction-op cat: 16 + 26*16 = 432
 *   logit = top MLP(z)                       432-512-256-1: ReLU, ReLU, then the last Linear's
 *                                            output (DLRM applies Sigmoid there; here it is in the loss)
 * Init as DLRM's create_mlp / create_emb: W ~ N(0, sqrt(2/(in+out))), b ~ N(0, sqrt(1/out)),
 * embedding rows of a field with n values ~ U(-sqrt(1/n), sqrt(1/n)).
 * The M per-field tables of DLRM are one host table here (tables[0]), with per-field offsets.
 * Dense features: UMEC's loader feeds log(x + 1) (negatives clamped to 0 first); this model takes
 * `inputs.dense` as given, so the data pipeline applies that transform.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';
import type { SparseOptimizerConfig } from '../embedding/hostEmbeddingTable';
import type { FeatureEmbedding } from '../embedding/featureEmbedding';
import type { RowStore } from '../embedding/rowStore';
import { buildVariables } from './blocks';
import { Linear } from './layers';
import {
  buildFeatureEmbedding,
  densePart,
  type ModelBuildOptions,
  type ModelShape,
  type RankingForwardInputs,
  type RankingModel,
} from './rankingModel';

export interface DlrmConfig {
  numFields: number;
  vocabulary: number;
  /**
   * Cardinality of each field (rows offsets[f] .. offsets[f] + fieldDims[f] - 1 of the table), for
   * DLRM's per-table init bound sqrt(1/n_f). null: every field taken as vocabulary / numFields.
   */
  fieldDims: ArrayLike<number> | null;
  embeddingDim: number;
  /** Number of dense (numeric) inputs; 0 = no bottom MLP, the top MLP sees the fields only. */
  numDense: number;
  /** Bottom MLP widths after the dense input (UMEC's "13-512-256-64-16" without the 13). */
  bottomLayers: number[];
  /** Top MLP widths after the interaction; must end with 1 (UMEC's --arch-mlp-top "512-256-1"). */
  topLayers: number[];
}

export const DEFAULT_DLRM_CONFIG: Omit<DlrmConfig, 'numFields' | 'vocabulary' | 'fieldDims'> = {
  embeddingDim: 16,
  numDense: 13,
  bottomLayers: [512, 256, 64, 16],
  topLayers: [512, 256, 1],
};

function normalTensor(shape: number[], std: number, rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = std * rng.normal();
  return tf.tensor(values, shape);
}

/** torch.nn.Linear re-initialised as DLRM's create_mlp does. */
function dlrmLinear(inFeatures: number, outFeatures: number, rng: Rng, name: string): Linear {
  const linear = buildVariables(() => new Linear(inFeatures, outFeatures, rng, name));
  tf.tidy(() => {
    linear.weight.assign(
      normalTensor([inFeatures, outFeatures], Math.sqrt(2 / (inFeatures + outFeatures)), rng),
    );
    linear.bias.assign(normalTensor([outFeatures], Math.sqrt(1 / outFeatures), rng));
  });
  return linear;
}

/** A stack of Linear layers with ReLU after each one, except after the last when `lastIsLogit`. */
export class DlrmMlp {
  readonly linears: Linear[];

  constructor(
    readonly inputSize: number,
    readonly layerSizes: number[],
    readonly lastIsLogit: boolean,
    rng: Rng,
    name: string,
  ) {
    let inSize = inputSize;
    this.linears = layerSizes.map((out, i) => {
      const linear = dlrmLinear(inSize, out, rng, `${name}_l${i}`);
      inSize = out;
      return linear;
    });
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    this.linears.forEach((linear, i) => {
      h = linear.apply(h);
      if (!(this.lastIsLogit && i === this.linears.length - 1)) h = tf.relu(h);
    });
    return h;
  }

  get variables(): tf.Variable[] {
    return this.linears.flatMap((l) => l.variables);
  }

  get numParams(): number {
    return this.linears.reduce((a, l) => a + l.numParams, 0);
  }

  /** 2 x multiply-adds (the convention of ModelSummary.flopsPerExample). */
  get flopsPerExample(): number {
    return this.linears.reduce((a, l) => a + 2 * l.inFeatures * l.outFeatures, 0);
  }

  get outputSize(): number {
    return this.layerSizes.length > 0
      ? this.layerSizes[this.layerSizes.length - 1]
      : this.inputSize;
  }
}

/** A unit of the top MLP's first layer: a block of consecutive input columns (UMEC's group). */
export interface TopInputGroup {
  /** 'dense' (the bottom MLP's output) or the field index. */
  source: 'dense' | number;
  /** First input column (a ROW of the first top Linear's [in, out] weight here). */
  start: number;
  size: number;
}

/**
 * UMEC's resource function R (rc_utils.flops2) for a top MLP whose every Linear is prunable.
 * Per Linear: 2 * in_kept * out_kept + out_kept, i.e. a multiply and an add per weight plus one
 * add per bias. This is the convention that gives exactly 705,793 for dense 432-512-256-1:
 *   (2*432*512 + 512) + (2*512*256 + 256) + (2*256*1 + 1) = 442,880 + 262,400 + 513.
 * prunedUnits[l] = units removed at the input of layer l: groups of `inputGroupSize` columns for
 * l = 0 (one field each), single input neurons for l > 0 (which also removes the matching output
 * neuron of layer l-1). Kept counts are floored as the official code does with real-valued s.
 */
export function umecTopMlpFlops(
  inputSize: number,
  layerSizes: number[],
  inputGroupSize: number,
  prunedUnits: ArrayLike<number> | null = null,
): number {
  const s = (l: number) => (prunedUnits ? (prunedUnits[l] ?? 0) : 0);
  let total = 0;
  let inSize = inputSize;
  layerSizes.forEach((out, l) => {
    const inKept = Math.floor(l === 0 ? inSize - s(0) * inputGroupSize : inSize - s(l));
    const outKept = l < layerSizes.length - 1 ? Math.floor(out - s(l + 1)) : out;
    total += 2 * inKept * outKept + outKept;
    inSize = out;
  });
  return total;
}

export class DlrmModel implements RankingModel {
  readonly name = 'DLRM';
  readonly embedding: FeatureEmbedding;
  readonly bottomMlp: DlrmMlp | null;
  readonly topMlp: DlrmMlp;

  constructor(
    readonly config: DlrmConfig,
    embeddingOptimizer: SparseOptimizerConfig,
    rng: Rng,
    options: ModelBuildOptions = {},
  ) {
    const { numFields: m, vocabulary, embeddingDim: d, numDense, topLayers } = config;
    if (topLayers.length === 0 || topLayers[topLayers.length - 1] !== 1) {
      throw new Error(
        `DLRM: the top MLP must end with 1 unit (the logit), got [${topLayers.join(', ')}]`,
      );
    }
    const fieldDims = config.fieldDims;
    if (fieldDims) {
      let sum = 0;
      for (let f = 0; f < fieldDims.length; f++) sum += fieldDims[f];
      if (fieldDims.length !== m || sum !== vocabulary) {
        throw new Error(
          `DLRM: fieldDims (${fieldDims.length} fields, ${sum} rows) do not match ${m} fields, ${vocabulary} rows`,
        );
      }
    }
    // DLRM's create_emb: each field's rows ~ U(-sqrt(1/n), sqrt(1/n)).
    this.embedding = buildFeatureEmbedding(
      m,
      vocabulary,
      d,
      { kind: 'per-field-uniform' },
      embeddingOptimizer,
      rng.fork(11),
      { ...options, fieldDims },
    );
    this.bottomMlp =
      numDense > 0
        ? new DlrmMlp(numDense, config.bottomLayers, false, rng.fork(15), 'dlrm_bot')
        : null;
    const topInput = (this.bottomMlp ? this.bottomMlp.outputSize : 0) + m * d;
    this.topMlp = new DlrmMlp(topInput, topLayers, true, rng.fork(16), 'dlrm_top');
  }

  get numFields(): number {
    return this.config.numFields;
  }

  get tables(): RowStore[] {
    return this.embedding.stores;
  }

  get stateVariables(): tf.Variable[] {
    return this.embedding.stateVariables;
  }

  get denseVariables(): tf.Variable[] {
    return [
      ...this.embedding.variables,
      ...(this.bottomMlp ? this.bottomMlp.variables : []),
      ...this.topMlp.variables,
    ];
  }

  /**
   * The top MLP's Linear layers, the ones UMEC prunes. Weights are stored [in, out], so torch's
   * column j of W_l (input unit j) is ROW j of `weight` here, and torch's row i (output neuron i)
   * is column i; mask by assigning to the variables after each optimizer step.
   */
  get topLinears(): Linear[] {
    return this.topMlp.linears;
  }

  /** The column blocks of the top MLP's input: the dense group first (if any), then each field. */
  get topInputGroups(): TopInputGroup[] {
    const d = this.config.embeddingDim;
    const groups: TopInputGroup[] = [];
    let start = 0;
    if (this.bottomMlp) {
      groups.push({ source: 'dense', start: 0, size: this.bottomMlp.outputSize });
      start = this.bottomMlp.outputSize;
    }
    for (let f = 0; f < this.config.numFields; f++)
      groups.push({ source: f, start: start + f * d, size: d });
    return groups;
  }

  /** UMEC's R for this top MLP (705,793 for the dense default); see umecTopMlpFlops. */
  topMlpFlops(prunedUnits: ArrayLike<number> | null = null): number {
    return umecTopMlpFlops(
      this.topMlp.inputSize,
      this.config.topLayers,
      this.config.embeddingDim,
      prunedUnits,
    );
  }

  forward(inputs: RankingForwardInputs, training: boolean): tf.Tensor1D {
    // DLRM has no dropout or BatchNorm; `training` matters only to the embedding.
    const { batchSize: b, localIndex } = inputs;
    const { numFields: m, embeddingDim: d, numDense } = this.config;
    const fieldVectors = this.embedding
      .lookup(inputs.tableRows, localIndex, b, training)
      .reshape([b, m * d]) as tf.Tensor2D;
    let interaction = fieldVectors;
    if (this.bottomMlp) {
      const dense = inputs.dense;
      if (!dense) throw new Error(`DLRM expects ${numDense} dense features per example, got none`);
      if (dense.shape[0] !== b || dense.shape[1] !== numDense) {
        throw new Error(
          `DLRM: dense features have shape [${dense.shape.join(', ')}], expected [${b}, ${numDense}]`,
        );
      }
      interaction = tf.concat([this.bottomMlp.apply(dense), fieldVectors], 1);
    }
    return this.topMlp.apply(interaction).reshape([b]);
  }

  shape(): ModelShape {
    const parts = [
      ...this.embedding.parts(),
      ...(this.bottomMlp ? [densePart('bottom-mlp', this.bottomMlp.numParams)] : []),
      densePart('top-mlp', this.topMlp.numParams),
    ];
    const flops = (this.bottomMlp?.flopsPerExample ?? 0) + this.topMlp.flopsPerExample;
    return { parts, flopsPerExample: flops };
  }

  dispose(): void {
    this.embedding.dispose();
    for (const v of [
      ...(this.bottomMlp ? this.bottomMlp.variables : []),
      ...this.topMlp.variables,
    ]) {
      v.dispose();
    }
  }
}
