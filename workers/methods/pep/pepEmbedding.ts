/**
 * PEP's embedding sub-model: V̂ = sign(V) · ReLU(|V| − gk · σ(S)), looked up per (example,
 * field). S is a host row beside V (feature, feature_dim: the table gathers V̂ itself and takes
 * its gradient back through the threshold, PepTable) or a small device variable (global [1],
 * dimension [d], field [M, 1], field_dim [M, d]) with its own learning rate and weight decay.
 * Gradients reach V and S through sign, ReLU and sigmoid as autodiff defines them (tfjs and torch
 * agree: sign has zero gradient, ReLU's is 1 above zero).
 */
import * as tf from '@tensorflow/tfjs';
import type {
  DeviceParameterGroup,
  EmbeddingRequest,
  FeatureEmbedding,
} from '../../embedding/featureEmbedding';
import {
  initialisedTable,
  prunedEncoding,
  prunedTableBytes,
} from '../../embedding/featureEmbedding';
import type { EmbeddingEncoding } from '../../export/modelFormat';
import type { TensorCollector } from '../../export/tensorCollector';
import { HostEmbeddingTable } from '../../embedding/hostEmbeddingTable';
import { lookupRows } from '../../embedding/rowLookup';
import { buildVariables } from '../../models/blocks';
import { uniqueVariableName } from '../../models/layers';
import type { ModelPart } from '../../protocol';
import { PepTable, type DeviceThreshold } from './pepTable';
import type { RowStore } from '../../embedding/rowStore';
import type { PepGranularity } from './spec';

export interface PepSettings {
  granularity: PepGranularity;
  thresholdInit: number;
  gk: number;
  /** Weight decay of S (the run's, or 0 when decay on S is off). */
  thresholdWeightDecay: number;
  /** Learning rate of S relative to the run's. */
  thresholdLearningRateScale: number;
}

export class PepEmbedding implements FeatureEmbedding {
  readonly stores: RowStore[];
  readonly variables: tf.Variable[] = [];
  readonly parameterGroups: DeviceParameterGroup[];
  readonly stateVariables: tf.Variable[] = [];
  /** S on the device, [rows, width]; null for the row-shaped granularities. */
  readonly deviceThreshold: tf.Variable | null;
  private readonly group: DeviceParameterGroup | null;

  constructor(
    readonly table: PepTable,
    deviceThreshold: tf.Variable | null,
    readonly numFields: number,
    readonly granularity: PepGranularity,
  ) {
    this.stores = [table];
    this.deviceThreshold = deviceThreshold;
    this.group = deviceThreshold ? { name: 'pep-threshold', variables: [deviceThreshold] } : null;
    this.parameterGroups = this.group ? [this.group] : [];
  }

  get dim(): number {
    return this.table.d;
  }

  /** The learning rate of a device S relative to the run's (host S: its table's scale). */
  setThresholdLearningRateScale(scale: number): void {
    if (this.table.s) this.table.s.learningRateScale = scale;
    if (this.group) this.group.learningRateScale = scale;
  }

  lookup(rows: tf.Tensor2D[], localIndex: tf.Tensor1D, batchSize: number): tf.Tensor2D {
    const table = this.table;
    // S on the host: the table's rows are V̂ already (the soft threshold is fused into its
    // gather). While retraining they are the masked V.
    if (table.s || !table.thresholdsOn) return lookupRows(rows[0], localIndex);
    const v = lookupRows(rows[0], localIndex); // [B*M, d]
    const threshold = this.deviceThreshold as tf.Variable;
    const perField = this.granularity === 'field' || this.granularity === 'field_dim';
    // Positions are example-major: (b, f) is row b * M + f, so the field rows tile.
    const s = (perField ? tf.tile(threshold, [batchSize, 1]) : threshold) as tf.Tensor2D;
    const t = tf.sigmoid(s).mul(table.gk);
    return tf.sign(v).mul(tf.relu(tf.abs(v).sub(t))) as tf.Tensor2D;
  }

  parts(): ModelPart[] {
    const t = this.table;
    return [
      {
        part: 'embedding',
        params: t.nonZeros,
        bytes: prunedTableBytes(t.numRows, t.d, t.nonZeros),
      },
    ];
  }

  /** V̂ as it is now (the retrained V, masked; or V thresholded), stored as a pruned table. */
  exportEncoding(tensors: TensorCollector): EmbeddingEncoding {
    return prunedEncoding(tensors, 'embedding', this.table.packThresholded());
  }

  dispose(): void {
    this.deviceThreshold?.dispose();
  }
}

/** Builds V as the model initialises its table, and S where the granularity puts it. */
export function buildPepEmbedding(req: EmbeddingRequest, settings: PepSettings): PepEmbedding {
  const { granularity: g, thresholdInit } = settings;
  const v = initialisedTable(
    'embedding',
    req.vocabulary,
    req.dim,
    req.fieldDims,
    req.init,
    req.optimizer,
    req.rng,
    req.allocate,
  );
  const sOptimizer = { ...req.optimizer, weightDecay: settings.thresholdWeightDecay };
  let hostS: HostEmbeddingTable | null = null;
  let deviceS: tf.Variable | null = null;
  let device: DeviceThreshold | null = null;
  if (g === 'feature' || g === 'feature_dim') {
    hostS = new HostEmbeddingTable(
      'pep.threshold',
      req.vocabulary,
      g === 'feature' ? 1 : req.dim,
      sOptimizer,
      { kind: 'constant', value: thresholdInit },
      req.rng,
      req.allocate,
    );
    hostS.learningRateScale = settings.thresholdLearningRateScale;
  } else {
    const rows = g === 'field' || g === 'field_dim' ? req.numFields : 1;
    const width = g === 'field' || g === 'global' ? 1 : req.dim;
    deviceS = buildVariables(() =>
      tf.variable(tf.fill([rows, width], thresholdInit), true, uniqueVariableName('pep_s')),
    );
    const values = new Float32Array(rows * width).fill(thresholdInit);
    const fieldOf = rows > 1 ? fieldOfRows(req.fieldDims, req.allocate) : null;
    const variable = deviceS;
    device = {
      values,
      width,
      rowOf: fieldOf ? (row) => fieldOf[row] : () => 0,
      refresh: async () => {
        device!.values = (await variable.data()) as Float32Array;
      },
    };
  }
  const table = new PepTable(v, hostS, device, req.optimizer.mode);
  table.gk = settings.gk;
  const embedding = new PepEmbedding(table, deviceS, req.numFields, g);
  if (embedding.parameterGroups[0]) {
    embedding.parameterGroups[0].learningRateScale = settings.thresholdLearningRateScale;
    embedding.parameterGroups[0].weightDecay = settings.thresholdWeightDecay;
  }
  return embedding;
}

function fieldOfRows(fieldDims: Int32Array, allocate: boolean): Int32Array {
  let total = 0;
  for (const n of fieldDims) total += n;
  const out = new Int32Array(allocate ? total : 0);
  if (!allocate) return out;
  let row = 0;
  fieldDims.forEach((n, f) => out.fill(f, row, (row += n)));
  return out;
}
