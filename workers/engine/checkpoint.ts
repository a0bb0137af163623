/**
 * A copy of a model's parameters (host tables, device weights and BatchNorm statistics), taken
 * at the best validation epoch and restored before the test split is scored.
 */
import * as tf from '@tensorflow/tfjs';
import type { RankingModel } from '../models/rankingModel';

export class ModelCheckpoint {
  private constructor(
    private readonly tables: Float32Array[][],
    private readonly device: tf.Tensor[],
  ) {}

  static take(model: RankingModel): ModelCheckpoint {
    const tables = model.tables.map((t) => t.saveState());
    // tf.clone outside a tidy: the copies live until dispose().
    const device = [...model.denseVariables, ...model.stateVariables].map((v) => tf.clone(v));
    return new ModelCheckpoint(tables, device);
  }

  restore(model: RankingModel): void {
    model.tables.forEach((t, i) => t.loadState(this.tables[i]));
    [...model.denseVariables, ...model.stateVariables].forEach((v, i) => v.assign(this.device[i]));
  }

  /** Host and device bytes the copy holds. */
  get bytes(): number {
    let total = 0;
    for (const state of this.tables) for (const a of state) total += a.byteLength;
    for (const t of this.device) total += 4 * t.size;
    return total;
  }

  dispose(): void {
    for (const t of this.device) t.dispose();
  }
}

/**
 * Copies every weight of `from` into `to` (a run that starts from a finished one). The two must
 * have the same architecture: the same tables and device variables, of the same shapes.
 */
export function copyModelWeights(from: RankingModel, to: RankingModel): void {
  const mismatch = (what: string) =>
    new Error(
      `The start run's model (${from.name}) does not match this run's (${to.name}): ${what}`,
    );
  if (from.tables.length !== to.tables.length) {
    throw mismatch(`${from.tables.length} row tables against ${to.tables.length}`);
  }
  const states = from.tables.map((t) => t.saveState());
  to.tables.forEach((t, i) => {
    const mine = t.saveState();
    if (mine.length !== states[i].length || mine.some((a, k) => a.length !== states[i][k].length)) {
      throw mismatch(`table ${t.name} has another shape`);
    }
  });
  const src = [...from.denseVariables, ...from.stateVariables];
  const dst = [...to.denseVariables, ...to.stateVariables];
  if (src.length !== dst.length) throw mismatch(`${src.length} weights against ${dst.length}`);
  dst.forEach((v, i) => {
    if (v.shape.join('x') !== src[i].shape.join('x')) {
      throw mismatch(`weight ${i} is [${src[i].shape.join(', ')}], here [${v.shape.join(', ')}]`);
    }
  });
  to.tables.forEach((t, i) => t.loadState(states[i]));
  dst.forEach((v, i) => v.assign(src[i]));
}
