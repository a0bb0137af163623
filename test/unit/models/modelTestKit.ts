/**
 * Shared helpers for the model tests: a forward pass over given ids, one step of the real
 * trainStep on a given batch, weights set to known values, and small plain-JS reference layers
 * for hand-computed forwards.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import type { CtrDataset } from '../../../workers/data/dataset';
import { plainTableOf } from '../../../workers/embedding/featureEmbedding';
import { makeBatchBuffers, trainStep } from '../../../workers/engine/trainStep';
import type { SparseOptimizerConfig } from '../../../workers/embedding/hostEmbeddingTable';
import type { RankingModel } from '../../../workers/models/rankingModel';
import type { DenseOptimizer } from '../../../workers/optim/denseOptimizers';
import { Rng } from '../../../workers/rng';

/** Dense Adam for the model tests: torch semantics, lr 0.01, no decay. */
export const TEST_DENSE_ADAM = {
  learningRate: 0.01,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  decoupledWeightDecay: false,
};

export const TEST_SPARSE_ADAM: SparseOptimizerConfig = {
  kind: 'adam',
  mode: 'lazy',
  learningRate: 0.01,
  weightDecay: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

/** Assigns every variable values ~ U(-scale, scale) from a seeded generator; returns the values. */
export async function setVariables(
  vars: tf.Variable[],
  seed: number,
  scale = 0.5,
): Promise<Map<tf.Variable, Float32Array>> {
  const rng = new Rng(seed);
  const out = new Map<tf.Variable, Float32Array>();
  for (const v of vars) {
    const values = new Float32Array(v.size);
    for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-scale, scale);
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
    out.set(v, (await v.data()) as Float32Array);
  }
  return out;
}

export function fillTable(weights: Float32Array, seed: number, scale = 0.5): void {
  const rng = new Rng(seed);
  for (let i = 0; i < weights.length; i++) weights[i] = Math.fround(rng.uniform(-scale, scale));
}

/** y = x W + b with W stored [in, out] row-major (the layers' layout). */
export function linearJs(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
): number[] {
  const out = b.length;
  const y = Array.from(b, Number);
  for (let i = 0; i < x.length; i++) for (let j = 0; j < out; j++) y[j] += x[i] * w[i * out + j];
  return y;
}

export const reluJs = (x: number[]): number[] => x.map((v) => Math.max(0, v));

interface BatchTensors {
  tableRows: tf.Tensor2D[];
  localIndex: tf.Tensor1D;
  dense: tf.Tensor2D | null;
}

function uploadBatch(
  model: RankingModel,
  planner: BatchPlanner,
  ids: Int32Array,
  dense: Float32Array | null,
  b: number,
) {
  const plan = planner.plan(ids);
  const u = plan.uniqueRows.length;
  const tensors: BatchTensors = {
    tableRows: model.tables.map((t) => tf.tensor2d(t.gatherRows(plan), [u, t.dim])),
    localIndex: tf.tensor1d(plan.localIndex, 'int32'),
    dense: dense ? tf.tensor2d(dense, [b, dense.length / b]) : null,
  };
  return { plan, tensors };
}

/** Logits for a batch of global table rows ids ([B * M]). */
export async function forwardLogits(
  model: RankingModel,
  ids: Int32Array,
  dense: Float32Array | null,
  training = false,
  dropoutSeed = 0,
): Promise<Float32Array> {
  const b = ids.length / model.numFields;
  const planner = new BatchPlanner(plainTableOf(model.embedding).numRows);
  const { tensors } = uploadBatch(model, planner, ids, dense, b);
  const logits = tf.tidy(() => model.forward({ ...tensors, batchSize: b, dropoutSeed }, training));
  const out = (await logits.data()) as Float32Array;
  logits.dispose();
  tensors.tableRows.forEach((t) => t.dispose());
  tensors.localIndex.dispose();
  tensors.dense?.dispose();
  return out;
}

/**
 * One step of the real training step (trainStep) on a batch given as global table ids ([B * M]),
 * with optional dense features; returns the loss.
 */
export async function trainOnBatch(
  model: RankingModel,
  optimizer: DenseOptimizer,
  planner: BatchPlanner,
  ids: Int32Array,
  dense: Float32Array | null,
  labels: Float32Array,
  dropoutSeed: number,
): Promise<number> {
  const b = labels.length;
  const m = model.numFields;
  const numDense = dense ? dense.length / b : 0;
  // A dataset whose rows are this batch: ids already global (field offsets 0).
  const batchData: CtrDataset = {
    name: 'batch',
    numRows: b,
    numFields: m,
    fieldNames: Array.from({ length: m }, (_, f) => `F${f}`),
    fieldDims: new Int32Array(m).fill(planner.numRows),
    fieldOffsets: new Int32Array(m),
    totalVocabulary: planner.numRows,
    ids,
    labels,
    numDense,
    dense,
    split: { train: new Int32Array(0), validation: new Int32Array(0), test: new Int32Array(0) },
  };
  const rows = Int32Array.from({ length: b }, (_, i) => i);
  return trainStep(
    model,
    { optimizers: [optimizer], variables: model.denseVariables, gradClipNorm: 0 },
    planner,
    batchData,
    rows,
    0,
    b,
    makeBatchBuffers(b, m, numDense),
    dropoutSeed,
  );
}

/** The plain embedding table of a model built without a compressing method. */
export function embeddingWeights(model: RankingModel): Float32Array {
  return plainTableOf(model.embedding).weights;
}

/** Random ids ([B*M], field f drawn from its own block of `perField` rows), dense and labels. */
export function randomBatch(
  seed: number,
  batch: number,
  numFields: number,
  perField: number,
  numDense: number,
): { ids: Int32Array; dense: Float32Array | null; labels: Float32Array } {
  const rng = new Rng(seed);
  const ids = new Int32Array(batch * numFields);
  const labels = new Float32Array(batch);
  const dense = numDense > 0 ? new Float32Array(batch * numDense) : null;
  for (let i = 0; i < batch; i++) {
    // The label follows field 0's value and the first dense feature, so there is signal to learn.
    let signal = 0;
    for (let f = 0; f < numFields; f++) {
      const v = rng.int(perField);
      ids[i * numFields + f] = f * perField + v;
      if (f === 0) signal += v < perField / 2 ? 1 : -1;
    }
    if (dense) {
      for (let k = 0; k < numDense; k++) dense[i * numDense + k] = rng.uniform(0, 2);
      signal += dense[i * numDense] - 1;
    }
    labels[i] = signal + 0.3 * rng.normal() > 0 ? 1 : 0;
  }
  return { ids, dense, labels };
}
