/**
 * Deduplicates the table rows a batch touches. The model gathers only those rows, the gradient
 * comes back as a small [uniqueRows, dim] block, and the optimizer updates only those rows: step
 * cost grows with the batch, never with the vocabulary.
 */
import { resident } from './residentArray';

export interface BatchPlan {
  /** Distinct table rows of the batch, in ascending order. */
  uniqueRows: Int32Array;
  /** For each id of the batch, its position in `uniqueRows`. */
  localIndex: Int32Array;
  /** Generation stamp: rows with `stamps[row] === generation` are in this batch. */
  generation: number;
  planner: BatchPlanner;
}

export class BatchPlanner {
  /** slotOf[row] is valid only when stamp[row] === generation (no O(vocab) reset per batch). */
  readonly slotOf: Int32Array;
  readonly stamp: Int32Array;
  private generation = 0;

  constructor(readonly numRows: number) {
    this.slotOf = resident(new Int32Array(numRows));
    this.stamp = resident(new Int32Array(numRows));
  }

  plan(ids: Int32Array, count = ids.length): BatchPlan {
    this.generation++;
    if (this.generation === 0x7fffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
    const gen = this.generation;
    const unique = new Int32Array(count);
    const localIndex = new Int32Array(count);
    let u = 0;
    for (let i = 0; i < count; i++) {
      const id = ids[i];
      if (id < 0 || id >= this.numRows) {
        throw new Error(`embedding id ${id} outside the table's 0..${this.numRows - 1}`);
      }
      if (this.stamp[id] !== gen) {
        this.stamp[id] = gen;
        unique[u++] = id;
      }
    }
    // Ascending rows: the host passes over them (gather, catch-up, update) then walk each table
    // and its optimizer state forwards, which at a large vocabulary costs fewer cache and TLB
    // misses than first-seen order (PEP's lazy step at 1M rows: about 10% less time in Node).
    const uniqueRows = unique.slice(0, u).sort();
    // Slots are known once the rows are sorted: each id's is written then, once.
    for (let k = 0; k < u; k++) this.slotOf[uniqueRows[k]] = k;
    for (let i = 0; i < count; i++) localIndex[i] = this.slotOf[ids[i]];
    return { uniqueRows, localIndex, generation: gen, planner: this };
  }

  /** Generation of the latest plan; an older plan's stamps are no longer valid. */
  get currentGeneration(): number {
    return this.generation;
  }

  /** Whether `row` was touched by the plan of generation `gen`. */
  isTouched(row: number, gen: number): boolean {
    return this.stamp[row] === gen;
  }

  get bytes(): number {
    return this.slotOf.byteLength + this.stamp.byteLength;
  }
}
