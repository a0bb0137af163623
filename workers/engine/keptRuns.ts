/**
 * Finished runs keep their models in the worker (until the user discards them), so that a later
 * step can evaluate, retrain, compare or export them. The registry counts what they hold.
 */
import type { CtrDataset } from '../data/dataset';
import { snapshotBuffers, type ModelSnapshot } from '../export/modelSnapshot';
import type { RankingModel } from '../models/rankingModel';
import type { KeptRunInfo, MethodChoice, RunResult, TrainConfig } from '../protocol';

export class KeptRun {
  runId = 0;
  /** What the method handed over beyond the model (masks, snapshots...), by name. */
  readonly artifacts = new Map<string, ArrayBufferView>();
  /**
   * Models the run passed through, exportable beside the final one (PEP: snapshot k + 1 at index
   * k). Empty for methods that take none.
   */
  readonly snapshots: ModelSnapshot[] = [];

  constructor(
    readonly label: string,
    readonly train: TrainConfig,
    readonly method: MethodChoice,
    /** The dataset as the model saw it (its split is the one the metrics were computed on). */
    readonly dataset: CtrDataset,
    readonly model: RankingModel,
    readonly result: RunResult,
  ) {}

  /**
   * Host bytes (row stores with optimizer state, artifacts, snapshots) plus device bytes of the
   * weights. A buffer shared by several snapshots counts once.
   */
  get bytes(): number {
    let total = 0;
    for (const t of this.model.tables) total += t.bytes;
    for (const v of [...this.model.denseVariables, ...this.model.stateVariables])
      total += 4 * v.size;
    const seen = new Set<ArrayBufferLike>();
    const views = [...this.artifacts.values(), ...this.snapshots.flatMap(snapshotBuffers)];
    for (const a of views) {
      if (seen.has(a.buffer)) continue;
      seen.add(a.buffer);
      total += a.byteLength;
    }
    return total;
  }

  dispose(): void {
    this.model.dispose();
    this.artifacts.clear();
    this.snapshots.length = 0;
  }
}

export class KeptRunRegistry {
  private readonly runs = new Map<number, KeptRun>();
  private nextId = 1;

  /** Keeps `run` under a new id (written into its result) and returns the id. */
  add(run: KeptRun): number {
    const id = this.nextId++;
    run.runId = id;
    run.result.runId = id;
    this.runs.set(id, run);
    return id;
  }

  get(id: number): KeptRun {
    const run = this.runs.get(id);
    if (!run)
      throw new Error(`No finished run ${id} is kept (it was discarded, or the engine restarted)`);
    return run;
  }

  discard(id: number): void {
    this.runs.get(id)?.dispose();
    this.runs.delete(id);
  }

  list(): KeptRunInfo[] {
    return [...this.runs.values()].map((r) => ({
      runId: r.runId,
      label: r.label,
      model: r.train.model,
      methodId: r.method.id,
      bytes: r.bytes,
    }));
  }

  get totalBytes(): number {
    let total = 0;
    for (const r of this.runs.values()) total += r.bytes;
    return total;
  }
}
