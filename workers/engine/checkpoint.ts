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
