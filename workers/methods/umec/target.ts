/**
 * The part of a model UMEC prunes, as the solvers see it: the Linear layers of an MLP whose first
 * layer's input is a row of blocks (DLRM's top MLP: its dense block, then one block of d columns
 * per field; DeepFM's and Wide&Deep's MLP: one block of d columns per field).
 *
 * Weights are stored [in, out] here, so torch's column j of W_l (input unit j, UMEC's group) is
 * ROW j of `weight`. Unit layer 0 = the first layer's input groups; unit layer l >= 1 = the inputs
 * of Linear l (the outputs of hidden layer l - 1). A unit's score is its squared L2 norm, as
 * rc_utils.weight_list_to_scores computes it.
 */
import * as tf from '@tensorflow/tfjs';
import type { CtrDataset } from '../../data/dataset';
import { plainTableOf } from '../../embedding/featureEmbedding';
import { selectFields } from '../../engine/modelDataset';
import { buildModel, sparseOptimizerOf } from '../../models/buildModel';
import { DlrmModel, type TopInputGroup } from '../../models/dlrm';
import { FmFamilyModel } from '../../models/fmFamily';
import type { Linear, Mlp } from '../../models/layers';
import { WideDeepModel } from '../../models/wideDeep';
import type { RankingModel } from '../../models/rankingModel';
import type { TrainConfig } from '../../protocol';
import type { Rng } from '../../rng';
import type { KeptStructure, PrunableLayout } from './resources';
import type { UnitScores } from './projection';
import { heldOutImportance, type GroupTable } from './fieldImportance';

export type ScoreKind = 'raw' | 'layer-mean';

export interface UmecTarget {
  readonly layout: PrunableLayout;
  /** The prunable Linear layers, in order (the last one's outputs are never pruned). */
  readonly linears: Linear[];
  readonly groups: TopInputGroup[];
  /** One per input group: the field's name, or 'dense' for DLRM's bottom-MLP block. */
  readonly groupLabels: string[];
  /** How the solvers compare units (see comparableScores). */
  readonly scoreKind: ScoreKind;
  /**
   * Multipliers of the groups' squared norms in `scores` (the held-out field score, see
   * fieldImportance.ts); null = the official scores, the norms alone.
   */
  groupFactors: Float64Array | null;
  /** Squared L2 norm of every unit, read from the device. */
  rawScores(): Promise<UnitScores>;
  /** The scores the solvers compare: rawScores times groupFactors, as `scoreKind` says. */
  scores(): Promise<UnitScores>;
  /** The held-out importance of every group now (heldOutImportance). */
  importance(): Promise<Float64Array>;
  /** Multiplies the rows of unit layer `layer` by `rowScale` (one factor per unit). */
  scaleUnits(layer: number, unitScale: Float32Array): void;
  /**
   * The model with only the kept units, physically smaller (fewer rows and columns, dropped
   * fields' tables and, when the dense block is dropped, the bottom MLP removed), and the view of
   * the dataset it reads (the kept fields only).
   */
  prune(keep: KeptStructure, rng: Rng): { model: RankingModel; dataset: CtrDataset };
}

/** Units of each unit layer: the groups, then the inputs of every Linear after the first. */
export function unitCounts(layout: PrunableLayout): number[] {
  return [layout.groupSizes.length, ...layout.layerSizes.slice(0, -1)];
}

/** Squared norm of each row of an [in, out] tensor. */
export async function rowSquares(t: tf.Tensor): Promise<Float64Array> {
  const sums = tf.tidy(() => tf.sum(tf.square(t), 1));
  try {
    return Float64Array.from(await sums.data());
  } finally {
    sums.dispose();
  }
}

/** The kept unit indices of a 0/1 mask. */
export function keptIndices(mask: Uint8Array): number[] {
  const out: number[] = [];
  mask.forEach((k, i) => {
    if (k) out.push(i);
  });
  return out;
}

/** A model whose MLP reads the concatenated field embeddings: DeepFM or Wide&Deep. */
export type MlpOverFields = (FmFamilyModel & { mlp: Mlp }) | WideDeepModel;

function isMlpOverFields(model: RankingModel): model is MlpOverFields {
  return model instanceof WideDeepModel || (model instanceof FmFamilyModel && model.mlp !== null);
}

/** UMEC's target in `model`: DLRM's top MLP, or DeepFM's / Wide&Deep's MLP. */
export function umecTarget(
  model: RankingModel,
  dataset: CtrDataset,
  train: TrainConfig,
  fixDense: boolean,
  scoreKind: ScoreKind,
): UmecTarget {
  if (model instanceof DlrmModel) return dlrmTarget(model, dataset, train, fixDense, scoreKind);
  if (isMlpOverFields(model)) return mlpTarget(model, dataset, train, scoreKind);
  throw new Error(
    `UMEC prunes the MLP of DLRM, DeepFM or Wide&Deep; ${model.name} has no MLP over its fields`,
  );
}

/** DLRM's top MLP: the dense block (unprunable when `fixDense`) and one group per field. */
export function dlrmTarget(
  model: DlrmModel,
  dataset: CtrDataset,
  train: TrainConfig,
  fixDense: boolean,
  scoreKind: ScoreKind,
): UmecTarget {
  const groups = model.topInputGroups;
  const d = model.config.embeddingDim;
  const layout: PrunableLayout = {
    groupSizes: groups.map((g) => g.size),
    groupParams: groups.map((g) => (g.source === 'dense' ? 0 : dataset.fieldDims[g.source] * d)),
    fixedGroups: groups.map((g) => g.source === 'dense' && fixDense),
    layerSizes: [...model.config.topLayers],
  };
  const linears = model.topLinears;
  return {
    layout,
    linears,
    groups,
    groupLabels: groups.map((g) => (g.source === 'dense' ? 'dense' : dataset.fieldNames[g.source])),
    scoreKind,
    groupFactors: null,
    async scores() {
      return solverScores(await this.rawScores(), this.groupFactors, scoreKind);
    },
    rawScores: () => groupedRowScores(linears, groups),
    importance: () =>
      heldOutImportance(model, dataset, groups, [
        { weights: plainTableOf(model.embedding).weights, width: d },
      ]),
    scaleUnits: (layer, unitScale) => scaleRows(linears, groups, layer, unitScale),
    prune(keep, rng) {
      return pruneDlrm(model, dataset, train, keep, rng);
    },
  };
}

/**
 * The MLP of DeepFM or Wide&Deep over its fields' embeddings: one group of d columns per field.
 * Dropping a field drops it from the whole model (its table, its first-order weights, the FM
 * term's share), since that is what frees its table; the resource counts the MLP.
 */
export function mlpTarget(
  model: MlpOverFields,
  dataset: CtrDataset,
  train: TrainConfig,
  scoreKind: ScoreKind,
): UmecTarget {
  const d = model.config.embeddingDim;
  const layout = mlpLayout(dataset, model.config.mlpLayers, d);
  const groups: TopInputGroup[] = Array.from({ length: dataset.numFields }, (_, f) => ({
    source: f,
    start: f * d,
    size: d,
  }));
  const linears = [...model.mlp.linears, model.mlp.output as Linear];
  return {
    layout,
    linears,
    groups,
    groupLabels: [...dataset.fieldNames],
    scoreKind,
    groupFactors: null,
    async scores() {
      return solverScores(await this.rawScores(), this.groupFactors, scoreKind);
    },
    rawScores: () => groupedRowScores(linears, groups),
    importance: () => {
      const tables: GroupTable[] = [
        { weights: plainTableOf(model.embedding).weights, width: d },
        { weights: model.linear.weights, width: 1 },
      ];
      return heldOutImportance(model, dataset, groups, tables);
    },
    scaleUnits: (layer, unitScale) => scaleRows(linears, groups, layer, unitScale),
    prune: (keep, rng) => pruneMlpOverFields(model, dataset, train, keep, rng),
  };
}

/**
 * The prunable layout of DeepFM's or Wide&Deep's MLP over `dataset` (before any model exists): a
 * field's parameters are its table and its first-order weights.
 */
export function mlpLayout(
  dataset: CtrDataset,
  hidden: number[],
  embeddingDim: number,
): PrunableLayout {
  return {
    groupSizes: Array.from(dataset.fieldDims, () => embeddingDim),
    groupParams: Array.from(dataset.fieldDims, (n) => n * (embeddingDim + 1)),
    fixedGroups: Array.from(dataset.fieldDims, () => false),
    layerSizes: [...hidden, 1],
  };
}

/** Squared norms of every unit: layer 0's grouped by input block, later layers' per row. */
async function groupedRowScores(linears: Linear[], groups: TopInputGroup[]): Promise<UnitScores> {
  const rows = await Promise.all(linears.map((l) => rowSquares(l.weight)));
  const rows0 = rows[0];
  const grouped = new Float64Array(groups.length);
  groups.forEach((g, i) => {
    let s = 0;
    for (let r = g.start; r < g.start + g.size; r++) s += rows0[r];
    grouped[i] = s;
  });
  return { groups: grouped, neurons: rows.slice(1) };
}

/** Multiplies the rows of unit layer `layer` by one factor per unit. */
function scaleRows(
  linears: Linear[],
  groups: TopInputGroup[],
  layer: number,
  unitScale: Float32Array,
): void {
  const linear = linears[layer];
  let rowScale = unitScale;
  if (layer === 0) {
    rowScale = new Float32Array(linear.inFeatures);
    groups.forEach((g, i) => rowScale.fill(unitScale[i], g.start, g.start + g.size));
  }
  tf.tidy(() => {
    linear.weight.assign(tf.mul(linear.weight, tf.tensor2d(rowScale, [rowScale.length, 1])));
  });
}

/** Copies `src`'s rows `rows` and columns `cols` (all when null) into `dst`. */
function assignSlice(
  dst: tf.Variable,
  src: tf.Variable,
  rows: number[] | null,
  cols: number[] | null,
): void {
  tf.tidy(() => {
    let t: tf.Tensor = src;
    if (rows) t = tf.gather(t, tf.tensor1d(rows, 'int32'), 0);
    if (cols) t = tf.gather(t, tf.tensor1d(cols, 'int32'), t.rank - 1);
    dst.assign(t);
  });
}

/** DLRM with only the kept groups and neurons (see UmecTarget.prune). */
export function pruneDlrm(
  model: DlrmModel,
  dataset: CtrDataset,
  train: TrainConfig,
  keep: KeptStructure,
  rng: Rng,
): { model: DlrmModel; dataset: CtrDataset } {
  const groups = model.topInputGroups;
  const keptGroups = groups.filter((_, i) => keep.keepGroups[i]);
  const keepDense = keptGroups.some((g) => g.source === 'dense');
  const fields = keptGroups.flatMap((g) => (g.source === 'dense' ? [] : [g.source]));
  let view = fields.length === dataset.numFields ? dataset : selectFields(dataset, fields);
  if (!keepDense && (view.numDense ?? 0) > 0) view = { ...view, numDense: 0, dense: null };
  const neurons = keep.keepNeurons.map(keptIndices);
  const cfg = model.config;
  const d = cfg.embeddingDim;
  const pruned = new DlrmModel(
    {
      numFields: fields.length,
      vocabulary: view.totalVocabulary,
      fieldDims: view.fieldDims,
      embeddingDim: d,
      numDense: keepDense ? cfg.numDense : 0,
      bottomLayers: cfg.bottomLayers,
      topLayers: [...neurons.map((n) => n.length), 1],
    },
    sparseOptimizerOf(train),
    rng,
    { fieldDims: view.fieldDims },
  );
  // The kept fields' rows, field by field, at their new offsets.
  const from = plainTableOf(model.embedding).weights;
  const to = plainTableOf(pruned.embedding).weights;
  fields.forEach((f, j) => {
    const src = dataset.fieldOffsets[f] * d;
    to.set(from.subarray(src, src + dataset.fieldDims[f] * d), view.fieldOffsets[j] * d);
  });
  if (keepDense && model.bottomMlp && pruned.bottomMlp) {
    pruned.bottomMlp.variables.forEach((v, i) => v.assign(model.bottomMlp!.variables[i]));
  }
  // First top layer: the kept groups' rows, in the new input order (dense block, then fields).
  const inputRows = keptGroups.flatMap((g) =>
    Array.from({ length: g.size }, (_, k) => g.start + k),
  );
  const old = model.topLinears;
  pruned.topLinears.forEach((linear, l) => {
    const rows = l === 0 ? inputRows : neurons[l - 1];
    const cols = l < neurons.length ? neurons[l] : null;
    assignSlice(linear.weight, old[l].weight, rows, cols);
    assignSlice(linear.bias, old[l].bias, null, cols);
  });
  return { model: pruned, dataset: view };
}

/**
 * DeepFM or Wide&Deep with only the kept fields (their tables, first-order weights and MLP input
 * rows) and the kept neurons (their columns of W_l, bias and BatchNorm entries, and rows of
 * W_l+1), and the view of the dataset it reads.
 */
export function pruneMlpOverFields(
  model: MlpOverFields,
  dataset: CtrDataset,
  train: TrainConfig,
  keep: KeptStructure,
  rng: Rng,
): { model: MlpOverFields; dataset: CtrDataset } {
  const fields = keptIndices(keep.keepGroups);
  if (fields.length === 0) throw new Error('UMEC: the hard prune would keep no input field');
  const view = fields.length === dataset.numFields ? dataset : selectFields(dataset, fields);
  const neurons = keep.keepNeurons.map(keptIndices);
  const d = model.config.embeddingDim;
  const pruned = buildModel(view, { ...train, mlpLayers: neurons.map((n) => n.length) }, rng);
  if (!isMlpOverFields(pruned)) throw new Error(`UMEC: ${pruned.name} was rebuilt without an MLP`);
  // The kept fields' rows of the embedding table and of the first-order table.
  const tables: [Float32Array, Float32Array, number][] = [
    [plainTableOf(model.embedding).weights, plainTableOf(pruned.embedding).weights, d],
    [model.linear.weights, pruned.linear.weights, 1],
  ];
  for (const [from, to, width] of tables) {
    fields.forEach((f, j) => {
      const src = dataset.fieldOffsets[f] * width;
      to.set(from.subarray(src, src + dataset.fieldDims[f] * width), view.fieldOffsets[j] * width);
    });
  }
  pruned.bias.assign(model.bias);
  const inputRows = fields.flatMap((f) => Array.from({ length: d }, (_, k) => f * d + k));
  const oldLinears = [...model.mlp.linears, model.mlp.output as Linear];
  const newLinears = [...pruned.mlp.linears, pruned.mlp.output as Linear];
  newLinears.forEach((linear, l) => {
    const rows = l === 0 ? inputRows : neurons[l - 1];
    const cols = l < neurons.length ? neurons[l] : null;
    assignSlice(linear.weight, oldLinears[l].weight, rows, cols);
    assignSlice(linear.bias, oldLinears[l].bias, null, cols);
  });
  pruned.mlp.norms.forEach((norm, l) => {
    const old = model.mlp.norms[l];
    for (const key of ['gamma', 'beta', 'runningMean', 'runningVar'] as const) {
      assignSlice(norm[key], old[key], null, neurons[l]);
    }
  });
  return { model: pruned, dataset: view };
}

/**
 * The scores the solvers compare, from squared norms: each group's multiplied by its factor (the
 * held-out field score; none: unchanged), then as `kind` says (comparableScores).
 */
export function solverScores(
  scores: UnitScores,
  factors: ArrayLike<number> | null,
  kind: ScoreKind,
): UnitScores {
  const groups = factors ? Float64Array.from(scores.groups, (v, i) => v * factors[i]) : null;
  return comparableScores(groups ? { ...scores, groups } : scores, kind);
}

/**
 * Scores as the solvers compare them: 'raw' squared norms (the official code), or each unit's
 * squared norm over its layer's mean (the lab's option: a 1-weight row of the last hidden layer
 * and a 16 x 512 field block then compete on the same scale).
 */
export function comparableScores(scores: UnitScores, kind: ScoreKind): UnitScores {
  if (kind === 'raw') return scores;
  const relative = (values: ArrayLike<number>) => {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[i];
    const mean = sum / Math.max(1, values.length);
    return Float64Array.from(values, (v) => (mean > 0 ? v / mean : 0));
  };
  return { groups: relative(scores.groups), neurons: scores.neurons.map(relative) };
}
