/**
 * Mixed-dimension embeddings: field f has its own table of n_f rows and width d_f, and a
 * projection P_f (d_f x d) back to the model's width when d_f < d (DLRM's PrEmbeddingBag: xavier
 * rows, a bias-free Linear with xavier weights). The rows live on the host, compact (n_f * d_f
 * floats each); a batch uploads them zero-padded to [U, d_max] and the projections run on the
 * device as one batched product over fields.
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchPlan } from '../../embedding/batchPlan';
import type {
  DeviceParameterGroup,
  EmbeddingRequest,
  FeatureEmbedding,
} from '../../embedding/featureEmbedding';
import { initialisedTable } from '../../embedding/featureEmbedding';
import type { HostEmbeddingTable } from '../../embedding/hostEmbeddingTable';
import { InnerRows } from '../../embedding/innerRows';
import type { RowStore } from '../../embedding/rowStore';
import { lookupRows } from '../../embedding/rowLookup';
import { uniqueVariableName } from '../../models/layers';
import { buildVariables } from '../../models/blocks';
import type { ModelPart } from '../../protocol';
import type { EmbeddingEncoding } from '../../export/modelFormat';
import type { TensorCollector } from '../../export/tensorCollector';

/** The field of a global id (offsets ascending): binary search over the M field offsets. */
function fieldOf(offsets: Int32Array, id: number): number {
  let lo = 0;
  let hi = offsets.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (offsets[mid] <= id) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export class MixedDimTables implements RowStore {
  readonly name = 'embedding';
  private readonly inner: InnerRows[];
  private fieldScratch = new Int32Array(0);

  constructor(
    readonly tables: HostEmbeddingTable[],
    readonly dims: Int32Array,
    readonly fieldOffsets: Int32Array,
    /** Width of an uploaded row: the largest d_f. */
    readonly dim: number,
  ) {
    this.inner = tables.map((t) => new InnerRows(t));
  }

  get bytes(): number {
    return this.inner.reduce((a, r) => a + r.bytes, 0);
  }

  gatherRows(plan: BatchPlan): Float32Array {
    const width = this.dim;
    const out = new Float32Array(plan.uniqueRows.length * width);
    for (let u = 0; u < plan.uniqueRows.length; u++) {
      const id = plan.uniqueRows[u];
      const f = fieldOf(this.fieldOffsets, id);
      const d = this.dims[f];
      const src = (id - this.fieldOffsets[f]) * d;
      out.set(this.tables[f].weights.subarray(src, src + d), u * width);
    }
    return out;
  }

  applyGradient(plan: BatchPlan, grad: Float32Array): void {
    const u = plan.uniqueRows.length;
    const width = this.dim;
    if (this.fieldScratch.length < u) this.fieldScratch = new Int32Array(u);
    const counts = new Int32Array(this.tables.length);
    for (let i = 0; i < u; i++) {
      const f = fieldOf(this.fieldOffsets, plan.uniqueRows[i]);
      this.fieldScratch[i] = f;
      counts[f]++;
    }
    // Every field's table steps (in 'exact' mode its untouched rows decay, as dense Adam does).
    for (let f = 0; f < this.tables.length; f++) {
      const d = this.dims[f];
      const localIds = new Int32Array(counts[f]);
      const g = new Float32Array(counts[f] * d);
      let n = 0;
      for (let i = 0; i < u; i++) {
        if (this.fieldScratch[i] !== f) continue;
        localIds[n] = plan.uniqueRows[i] - this.fieldOffsets[f];
        g.set(grad.subarray(i * width, i * width + d), n * d);
        n++;
      }
      this.tables[f].applyGradient(this.inner[f].plan(localIds, n), g);
    }
  }

  setLearningRate(lr: number): void {
    for (const t of this.tables) t.setLearningRate(lr);
  }

  resetOptimizerState(): void {
    for (const t of this.tables) t.resetOptimizerState();
  }

  saveState(): Float32Array[] {
    return this.tables.flatMap((t) => t.saveState());
  }

  loadState(state: Float32Array[]): void {
    this.tables.forEach((t, f) => t.loadState([state[f]]));
  }
}

export class MixedDimEmbedding implements FeatureEmbedding {
  readonly stores: RowStore[];
  readonly variables: tf.Variable[];
  readonly parameterGroups: DeviceParameterGroup[] = [];
  readonly stateVariables: tf.Variable[] = [];
  /** [M, d_max, d]: P_f in field f's first d_f rows (zeros below), trained. */
  private readonly projection: tf.Variable | null;
  /** 1 where `projection` is a trained weight, 0 elsewhere. */
  private readonly trainable: tf.Tensor3D | null;
  /** The identity for fields that keep the full width d (no projection). */
  private readonly identity: tf.Tensor3D | null;

  constructor(
    readonly tables: MixedDimTables,
    readonly dims: Int32Array,
    readonly fieldRows: Int32Array,
    readonly dim: number,
    rng: { uniform(lo: number, hi: number): number },
  ) {
    this.stores = [tables];
    const m = dims.length;
    const dMax = tables.dim;
    const projected = Array.from(dims, (df) => df < dim);
    if (!projected.some(Boolean)) {
      this.projection = null;
      this.trainable = null;
      this.identity = null;
      this.variables = [];
      return;
    }
    const weights = new Float32Array(m * dMax * dim);
    const trainable = new Float32Array(m * dMax * dim);
    const identity = new Float32Array(m * dMax * dim);
    for (let f = 0; f < m; f++) {
      const base = f * dMax * dim;
      if (!projected[f]) {
        for (let k = 0; k < dim; k++) identity[base + k * dim + k] = 1;
        continue;
      }
      const bound = Math.sqrt(6 / (dims[f] + dim));
      for (let i = 0; i < dims[f] * dim; i++) {
        weights[base + i] = rng.uniform(-bound, bound);
        trainable[base + i] = 1;
      }
    }
    // Built in a tidy: tf.variable(t) keeps t counted as well (see models/blocks.ts).
    this.projection = buildVariables(() =>
      tf.variable(tf.tensor3d(weights, [m, dMax, dim]), true, uniqueVariableName('md_projection')),
    );
    this.trainable = tf.tensor3d(trainable, [m, dMax, dim]);
    this.identity = tf.tensor3d(identity, [m, dMax, dim]);
    this.variables = [this.projection];
  }

  lookup(rows: tf.Tensor2D[], localIndex: tf.Tensor1D, batchSize: number): tf.Tensor2D {
    const x = lookupRows(rows[0], localIndex);
    if (!this.projection || !this.trainable || !this.identity) return x;
    const m = this.dims.length;
    const dMax = this.tables.dim;
    // [B*M, dMax] -> [M, B, dMax] x [M, dMax, d] -> [M, B, d] -> [B*M, d]
    const perField = x.reshape([batchSize, m, dMax]).transpose([1, 0, 2]) as tf.Tensor3D;
    const p = this.projection.mul(this.trainable).add(this.identity) as tf.Tensor3D;
    return tf
      .matMul(perField, p)
      .transpose([1, 0, 2])
      .reshape([batchSize * m, this.dim]) as tf.Tensor2D;
  }

  parts(): ModelPart[] {
    let rows = 0;
    let projection = 0;
    for (let f = 0; f < this.dims.length; f++) {
      rows += this.fieldRows[f] * this.dims[f];
      if (this.dims[f] < this.dim) projection += this.dims[f] * this.dim;
    }
    return [
      { part: 'embedding', params: rows, bytes: 4 * rows },
      { part: 'projection', params: projection, bytes: 4 * projection },
    ];
  }

  exportEncoding(tensors: TensorCollector): EmbeddingEncoding {
    const d = this.dim;
    // Field f's projection: the first d_f rows of its slot in the [M, dMax, d] variable.
    const all = this.projection;
    return {
      kind: 'mixed-dim',
      dim: d,
      fields: this.tables.tables.map((t, f) => {
        const df = this.dims[f];
        const table = tensors.put(`embedding.${f}`, t.weights, [t.numRows, df]);
        if (df >= d || !all) return { table, projection: null };
        const slice = tf.tidy(() => all.slice([f, 0, 0], [1, df, d]).reshape([df, d]));
        const projection = tensors.put(
          `embedding.${f}.projection`,
          slice,
          [df, d],
          'float32',
          true,
        );
        return { table, projection };
      }),
    };
  }

  dispose(): void {
    this.projection?.dispose();
    this.trainable?.dispose();
    this.identity?.dispose();
  }
}

/** Builds the per-field tables (initialised as the model would, per field) and the embedding. */
export function buildMixedDimEmbedding(req: EmbeddingRequest, dims: Int32Array): MixedDimEmbedding {
  const tables = Array.from(req.fieldDims, (n, f) =>
    initialisedTable(
      `embedding.${f}`,
      n,
      dims[f],
      [n],
      req.init,
      req.optimizer,
      req.rng,
      req.allocate,
    ),
  );
  const dMax = dims.reduce((a, b) => Math.max(a, b), 1);
  const store = new MixedDimTables(tables, dims, req.fieldOffsets, dMax);
  return new MixedDimEmbedding(store, dims, req.fieldDims, req.dim, req.rng);
}
