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

function uploadTableRows(model: RankingModel, plan: BatchPlan): tf.Tensor2D[] {
  const u = plan.uniqueRows.length;
  return model.tables.map((t) => tf.tensor2d(t.gatherRows(plan), [u, t.dim]));
}

/**
 * Forward, backward and update for one batch; returns the batch's mean loss.
 * Device: gather from the touched rows, model math, dense optimizer step.
 * Host: dedup of ids, sparse optimizer step on the touched rows.
 */
export async function trainStep(
  model: RankingModel,
  denseOptimizer: DenseOptimizer,
  planner: BatchPlanner,
  ds: CtrDataset,
  rows: Int32Array,
  start: number,
  count: number,
  buffers: BatchBuffers,
  dropoutSeed: number,
  gradClipNorm = 0,
): Promise<number> {
  gatherBatch(ds, rows, start, count, buffers.ids, buffers.labels);
  const plan = planner.plan(buffers.ids, count * ds.numFields);
  const tableRows = uploadTableRows(model, plan).map((t) => {
    // The variable shares t's data; t itself must go or it stays counted (a leak per step).
    const v = tf.variable(t, true, uniqueVariableName('batch_rows'));
    t.dispose();
    return v;
  });
  const localIndex = tf.tensor1d(plan.localIndex, 'int32');
  const labels = tf.tensor1d(buffers.labels.subarray(0, count));
  const dense = uploadDense(ds, buffers, rows, start, count);
  const { value, grads } = tf.variableGrads(
    () =>
      bceWithLogits(
        model.forward({ tableRows, localIndex, dense, batchSize: count, dropoutSeed }, true),
        labels,
      ),
    [...model.denseVariables, ...tableRows],
  );
  // Clipping sees every gradient, the touched table rows' included, as torch's clip_grad_norm_
  // over all parameters does (rows outside the batch have zero gradient).
  if (gradClipNorm > 0) clipGradNorm(grads, gradClipNorm).dispose();
  denseOptimizer.applyGradients(grads);
  const [lossValue, ...rowGrads] = await Promise.all([
    value.data(),
    ...tableRows.map((t) => grads[t.name].data()),
  ]);
  model.tables.forEach((table, i) => table.applyGradient(plan, rowGrads[i] as Float32Array));

  value.dispose();
  for (const name of Object.keys(grads)) grads[name].dispose();
  for (const t of tableRows) t.dispose();
  localIndex.dispose();
  labels.dispose();
  dense?.dispose();
  return lossValue[0];
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
            localIndex: tf.tensor1d(plan.localIndex, 'int32'),
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
