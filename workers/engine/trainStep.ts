/**
 * One training step and batched inference for any RankingModel.
 */
import * as tf from '@tensorflow/tfjs';
import type { CtrDataset } from '../data/dataset';
import { gatherBatch, gatherDense } from '../data/dataset';
import type { BatchPlan, BatchPlanner } from '../embedding/batchPlan';
import { clipGradNorm, type DenseOptimizer } from '../optim/denseOptimizers';
import type { RankingModel } from '../models/rankingModel';
import { bceWithLogits } from '../models/losses';
import { uniqueVariableName } from '../models/layers';
import { hostCopyOf, withHostCopy } from '../embedding/rowLookup';

export interface BatchBuffers {
  ids: Int32Array;
  labels: Float32Array;
  dense: Float32Array;
}

export function makeBatchBuffers(batchSize: number, numFields: number, numDense = 0): BatchBuffers {
  return {
    ids: new Int32Array(batchSize * numFields),
    labels: new Float32Array(batchSize),
    dense: new Float32Array(batchSize * numDense),
  };
}

/** The batch's dense features as a [count, numDense] tensor, or null when the data has none. */
function uploadDense(
  ds: CtrDataset,
  buffers: BatchBuffers,
  rows: Int32Array,
  start: number,
  count: number,
): tf.Tensor2D | null {
  const k = ds.numDense ?? 0;
  if (k === 0 || !ds.dense) return null;
  gatherDense(ds, rows, start, count, buffers.dense);
  return tf.tensor2d(buffers.dense.subarray(0, count * k), [count, k]);
}

/** The batch's rows of each table, as [U, dim] tensors that remember their host arrays. */
function uploadTableRows(model: RankingModel, plan: BatchPlan): tf.Tensor2D[] {
  const u = plan.uniqueRows.length;
  return model.tables.map((t) => {
    const rows = t.gatherRows(plan);
    return withHostCopy(tf.tensor2d(rows, [u, t.dim]), rows);
  });
}

function uploadLocalIndex(plan: BatchPlan): tf.Tensor1D {
  return withHostCopy(tf.tensor1d(plan.localIndex, 'int32'), plan.localIndex);
}

/**
 * Runs a gradient's forward function; when it throws, frees what tfjs saved for the backward
 * pass so far. tfjs keeps those tensors (outside every tidy) until the backward pass disposes
 * them, and after a throw there is no backward pass: without this, each failed step leaks them.
 */
function freeTapeOnThrow<T>(forward: () => T): T {
  try {
    return forward();
  } catch (err) {
    const state = tf.engine().state as unknown as {
      gradientDepth: number;
      activeTape: { saved?: tf.Tensor[] }[] | null;
    };
    if (state.gradientDepth === 1 && state.activeTape) {
      for (const node of state.activeTape) {
        for (const t of node.saved ?? []) t.dispose();
        node.saved = [];
      }
    }
    throw err;
  }
}

/** What one step updates: the dense optimizers (each over its own variables) and an extra loss. */
export interface StepUpdate {
  optimizers: DenseOptimizer[];
  /** Variables the optimizers update (the gradient is taken with respect to these). */
  variables: tf.Variable[];
  /** A method's term added to the loss inside the gradient. */
  lossTerm?: ((model: RankingModel) => tf.Scalar) | null;
  gradClipNorm: number;
}

/**
 * Forward, backward and update for one batch; returns the batch's mean loss (the data loss,
 * without a method's extra term).
 * Device: gather from the touched rows, model math, dense optimizer steps.
 * Host: dedup of ids, each row store's optimizer step on the touched rows.
 * Every tensor of the step is freed, also when the forward pass throws.
 */
export async function trainStep(
  model: RankingModel,
  update: StepUpdate,
  planner: BatchPlanner,
  ds: CtrDataset,
  rows: Int32Array,
  start: number,
  count: number,
  buffers: BatchBuffers,
  dropoutSeed: number,
): Promise<number> {
  gatherBatch(ds, rows, start, count, buffers.ids, buffers.labels);
  const plan = planner.plan(buffers.ids, count * ds.numFields);
  const owned: tf.Tensor[] = [];
  let grads: tf.NamedTensorMap = {};
  try {
    const tableRows = uploadTableRows(model, plan).map((t) => {
      // The variable shares t's data; t itself must go or it stays counted (a leak per step).
      const v = withHostCopy(tf.variable(t, true, uniqueVariableName('batch_rows')), hostCopyOf(t));
      t.dispose();
      owned.push(v);
      return v;
    });
    const localIndex = uploadLocalIndex(plan);
    owned.push(localIndex);
    const labels = tf.tensor1d(buffers.labels.subarray(0, count));
    owned.push(labels);
    const dense = uploadDense(ds, buffers, rows, start, count);
    if (dense) owned.push(dense);
    // With a method's loss term, the data loss alone is what the run reports.
    const data: { loss: tf.Scalar | null } = { loss: null };
    const lossTerm = update.lossTerm;
    const result = tf.variableGrads(
      () =>
        freeTapeOnThrow(() => {
          const loss = bceWithLogits(
            model.forward({ tableRows, localIndex, dense, batchSize: count, dropoutSeed }, true),
            labels,
          );
          if (!lossTerm) return loss;
          const total = loss.add(lossTerm(model)) as tf.Scalar;
          data.loss = tf.keep(loss.clone());
          return total;
        }),
      [...update.variables, ...tableRows],
    );
    grads = result.grads;
    owned.push(result.value);
    if (data.loss) owned.push(data.loss);
    const reported = data.loss ?? result.value;
    // Clipping sees every gradient, the touched table rows' included, as torch's clip_grad_norm_
    // over all parameters does (rows outside the batch have zero gradient).
    if (update.gradClipNorm > 0) clipGradNorm(grads, update.gradClipNorm).dispose();
    for (const optimizer of update.optimizers) optimizer.applyGradients(grads);
    const [lossValue, ...rowGrads] = await Promise.all([
      reported.data(),
      // Rows the forward did not use this step (a store a method switched off) get no gradient.
      ...tableRows.map((t) => grads[t.name]?.data() ?? new Float32Array(t.size)),
      ...model.tables.map((t) => t.beforeUpdate?.()),
    ]);
    model.tables.forEach((table, i) => table.applyGradient(plan, rowGrads[i] as Float32Array));
    return lossValue[0];
  } finally {
    for (const name of Object.keys(grads)) grads[name].dispose();
    for (const t of owned) t.dispose();
  }
}

/** Predicted click probabilities for the given dataset rows (inference mode, no dropout). */
export async function predictProbabilities(
  model: RankingModel,
  planner: BatchPlanner,
  ds: CtrDataset,
  rows: Int32Array,
  batchSize = 4096,
  yieldBetweenBatches?: () => Promise<void>,
): Promise<Float32Array> {
  const out = new Float32Array(rows.length);
  const buffers = makeBatchBuffers(batchSize, ds.numFields, ds.numDense ?? 0);
  for (let start = 0; start < rows.length; start += batchSize) {
    const count = Math.min(batchSize, rows.length - start);
    gatherBatch(ds, rows, start, count, buffers.ids, buffers.labels);
    const plan = planner.plan(buffers.ids, count * ds.numFields);
    const probs = tf.tidy(() =>
      tf.sigmoid(
        model.forward(
          {
            tableRows: uploadTableRows(model, plan),
            localIndex: uploadLocalIndex(plan),
            dense: uploadDense(ds, buffers, rows, start, count),
            batchSize: count,
            dropoutSeed: 0,
          },
          false,
        ),
      ),
    );
    out.set((await probs.data()) as Float32Array, start);
    probs.dispose();
    if (yieldBetweenBatches) await yieldBetweenBatches();
  }
  return out;
}
