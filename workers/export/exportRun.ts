/**
 * A finished run's model as a model file (modelFormat.ts): the dataset description a scorer needs
 * to read raw rows, the architecture with its weights, the embedding as its method stores it, the
 * compression plan, the metrics and the config.
 */
import type { CtrDataset } from '../data/dataset';
import type { KeptRun } from '../engine/keptRuns';
import { AutoIntModel } from '../models/autoint';
import { DlrmModel } from '../models/dlrm';
import { FmFamilyModel } from '../models/fmFamily';
import type { Linear, Mlp } from '../models/layers';
import { BatchNorm1d } from '../models/layers';
import type { RankingModel } from '../models/rankingModel';
import { WideDeepModel } from '../models/wideDeep';
import { prunedEncoding } from '../embedding/featureEmbedding';
import type { ModelSummary } from '../protocol';
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type Architecture,
  type DatasetDescription,
  type DenseRef,
  type EmbeddingEncoding,
  type ExportMetrics,
  type MlpRef,
  type ModelFile,
} from './modelFormat';
import type { ModelSnapshot } from './modelSnapshot';
import { TensorCollector } from './tensorCollector';

export const LAB_VERSION = '0.1.0';

function denseRef(c: TensorCollector, name: string, l: Linear): DenseRef {
  return {
    weight: c.put(`${name}.weight`, l.weight),
    bias: c.put(`${name}.bias`, l.bias),
  };
}

function mlpRef(c: TensorCollector, name: string, mlp: Mlp): MlpRef {
  return {
    hidden: mlp.linears.map((l, i) => {
      const norm = mlp.config.batchNorm ? mlp.norms[i] : null;
      return {
        linear: denseRef(c, `${name}.${i}`, l),
        norm: norm
          ? {
              gamma: c.put(`${name}.${i}.norm.gamma`, norm.gamma),
              beta: c.put(`${name}.${i}.norm.beta`, norm.beta),
              runningMean: c.put(`${name}.${i}.norm.mean`, norm.runningMean),
              runningVar: c.put(`${name}.${i}.norm.var`, norm.runningVar),
              eps: BatchNorm1d.EPS,
            }
          : null,
      };
    }),
    output: mlp.output ? denseRef(c, `${name}.out`, mlp.output) : null,
  };
}

/** The model's architecture with its (device and host) weights registered in `c`. */
export function architectureOf(model: RankingModel, c: TensorCollector): Architecture {
  if (model instanceof FmFamilyModel) {
    const { kind, numFields, embeddingDim } = model.config;
    return {
      model: kind === 'fm' ? 'fm' : 'deepfm',
      numFields,
      embeddingDim,
      linear: c.put('linear', model.linear.weights),
      bias: c.put('bias', model.bias),
      mlp: model.mlp ? mlpRef(c, 'mlp', model.mlp) : null,
    };
  }
  if (model instanceof WideDeepModel) {
    return {
      model: 'widedeep',
      numFields: model.config.numFields,
      embeddingDim: model.config.embeddingDim,
      linear: c.put('linear', model.linear.weights),
      bias: c.put('bias', model.bias),
      mlp: mlpRef(c, 'mlp', model.mlp),
    };
  }
  if (model instanceof AutoIntModel) {
    const cfg = model.config;
    return {
      model: 'autoint',
      numFields: cfg.numFields,
      embeddingDim: cfg.embeddingDim,
      attentionDim: cfg.attentionDim,
      numHeads: cfg.numHeads,
      attentionEmbedding: denseRef(c, 'attention.embedding', model.attentionEmbedding),
      layers: model.attentionLayers.map((l, i) => ({
        inProj: {
          weight: c.put(`attention.${i}.in.weight`, l.inProjWeight),
          bias: c.put(`attention.${i}.in.bias`, l.inProjBias),
        },
        outProj: denseRef(c, `attention.${i}.out`, l.outProj),
      })),
      residual: model.residualEmbedding
        ? denseRef(c, 'attention.residual', model.residualEmbedding)
        : null,
      output: denseRef(c, 'attention.output', model.attentionOutput),
      mlp: model.mlp ? mlpRef(c, 'mlp', model.mlp) : null,
    };
  }
  if (model instanceof DlrmModel) {
    return {
      model: 'dlrm',
      numFields: model.config.numFields,
      embeddingDim: model.config.embeddingDim,
      numDense: model.bottomMlp ? model.config.numDense : 0,
      bottom: (model.bottomMlp?.linears ?? []).map((l, i) => denseRef(c, `bottom.${i}`, l)),
      top: model.topMlp.linears.map((l, i) => denseRef(c, `top.${i}`, l)),
    };
  }
  throw new Error(`export: ${model.name} is not a model the model file describes`);
}

/** The fields, vocabularies and raw row layout of the data the model was trained on. */
export function datasetDescription(ds: CtrDataset): DatasetDescription {
  const layout = ds.rawLayout ?? null;
  const vocab = ds.vocabularies;
  const fields = ds.fieldNames.map((name, f) => {
    const v = vocab?.[f];
    const column = layout ? (layout.fieldColumns[name] ?? null) : null;
    return {
      name,
      rows: ds.fieldDims[f],
      offset: ds.fieldOffsets[f],
      transform: v ? v.transform : ('id' as const),
      tokens: v && v.transform !== 'id' ? [...v.tokens] : null,
      rareId: v ? v.rareId : null,
      minCount: v ? v.minCount : 1,
      column,
    };
  });
  const readable = layout !== null && fields.every((f) => f.column !== null);
  return {
    name: ds.name,
    fields,
    dense:
      (ds.numDense ?? 0) > 0 && layout
        ? { names: [...layout.denseNames], columns: [...layout.denseColumns] }
        : null,
    input:
      readable && layout
        ? {
            kind: 'delimited',
            delimiter: layout.delimiter,
            hasHeader: layout.hasHeader,
            quoted: layout.quoted,
            labelColumn: layout.labelColumn,
            numColumns: layout.numColumns,
            header: layout.header,
          }
        : { kind: 'ids' },
  };
}

/** What to export of a kept run: its final model, or one of its snapshots. */
export interface ExportOptions {
  /**
   * A snapshot the run took, numbered from 1 in the order it took them (PEP: snapshot k is the
   * one phase retrain-k retrains): the retrained model when it was retrained, else the model as
   * it was at the snapshot. Absent: the run's final model.
   */
  snapshot?: number;
}

/** Snapshot `n` (from 1) of a kept run, or an error saying which ones the run has. */
export function snapshotOfRun(run: KeptRun, n: number): ModelSnapshot {
  const count = run.snapshots.length;
  const name = `${run.runId > 0 ? `Run ${run.runId}` : 'The run'} (${run.result.method.label})`;
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`A snapshot is numbered from 1 in the order it was taken, got ${n}`);
  }
  if (count === 0) {
    throw new Error(
      `${name} took no snapshots${run.method.id === 'pep' ? ' (it reached none of its targets)' : ': only PEP runs take them'}`,
    );
  }
  const snapshot = run.snapshots[n - 1] as ModelSnapshot | undefined;
  if (!snapshot) {
    throw new Error(
      `${name} has no snapshot ${n}: it took ${count} (${count === 1 ? 'snapshot 1' : `snapshots 1 to ${count}`})`,
    );
  }
  return snapshot;
}

/** The model file of a kept run: its final model, or the snapshot `options.snapshot`. */
export async function exportRun(run: KeptRun, options: ExportOptions = {}): Promise<ModelFile> {
  if (options.snapshot !== undefined) {
    return exportSnapshot(run, options.snapshot, snapshotOfRun(run, options.snapshot));
  }
  const c = new TensorCollector();
  const model = run.model;
  const result = run.result;
  let architecture: Architecture;
  let embedding;
  try {
    architecture = architectureOf(model, c);
    embedding = model.embedding.exportEncoding(c);
  } catch (err) {
    c.dispose();
    throw err;
  }
  const weightBytes = c.bytes;
  const tensors = await c.encode();
  const summary = result.model;
  const embeddingParameters = embeddingParametersOf(summary);
  const best = result.phases.filter((p) => !p.skipped).at(-1)?.bestEvaluation ?? null;
  return {
    ...fileHeader(run),
    architecture,
    embedding,
    compression: {
      method: result.method.id,
      label: result.method.label,
      options: run.method.options,
      plan: result.methodResult,
    },
    tensors,
    metrics: {
      validationAuc: best?.validationAuc ?? null,
      validationLogloss: best?.validationLogloss ?? null,
      testAuc: result.test?.auc ?? null,
      testLogloss: result.test?.logloss ?? null,
      testAccuracy: result.test?.accuracy ?? null,
      ...sizeMetrics(summary, embeddingParameters, weightBytes),
    },
    config: { train: run.train, method: run.method },
  };
}

function embeddingParametersOf(summary: ModelSummary): number {
  return summary.parts.filter((p) => p.part === 'embedding').reduce((a, p) => a + p.params, 0);
}

/**
 * Sizes of a model that has the run's final one's parts but `embeddingParameters` stored
 * embedding parameters, and whose file holds `weightBytes` bytes of tensors.
 */
function sizeMetrics(
  summary: ModelSummary,
  embeddingParameters: number,
  weightBytes: number,
): Pick<
  ExportMetrics,
  | 'sparsity'
  | 'parameters'
  | 'embeddingParameters'
  | 'denseEmbeddingParameters'
  | 'flopsPerExample'
  | 'weightBytes'
  | 'denseWeightBytes'
> {
  // The same model uncompressed: its dense parts plus the full N x d table.
  const compressedParts = summary.parts.filter(
    (p) => p.part === 'embedding' || p.part === 'projection',
  );
  const denseParams =
    summary.totalParams -
    compressedParts.reduce((a, p) => a + p.params, 0) +
    summary.denseEmbeddingParams;
  return {
    sparsity: 1 - embeddingParameters / Math.max(1, summary.denseEmbeddingParams),
    parameters: summary.totalParams - embeddingParametersOf(summary) + embeddingParameters,
    embeddingParameters,
    denseEmbeddingParameters: summary.denseEmbeddingParams,
    flopsPerExample: summary.flopsPerExample,
    weightBytes,
    denseWeightBytes: 4 * denseParams,
  };
}

/**
 * A snapshot's model file: the kept model's architecture with the snapshot's weights in place of
 * the final ones, its packed table as the pruned embedding, and its own metrics and plan.
 */
async function exportSnapshot(
  run: KeptRun,
  n: number,
  snapshot: ModelSnapshot,
): Promise<ModelFile> {
  const c = new TensorCollector();
  const result = run.result;
  const table = snapshot.embedding;
  let architecture: Architecture;
  let embedding: EmbeddingEncoding;
  try {
    if (table.rows !== run.dataset.totalVocabulary || table.dim !== run.model.embedding.dim) {
      throw new Error(
        `export: snapshot ${n} holds a [${table.rows}, ${table.dim}] table, the run's model [${run.dataset.totalVocabulary}, ${run.model.embedding.dim}]`,
      );
    }
    architecture = architectureOf(run.model, c);
    c.substitute(snapshot.weights, `snapshot ${n}`);
    embedding = prunedEncoding(c, 'embedding', table);
  } catch (err) {
    c.dispose();
    throw err;
  }
  const weightBytes = c.bytes;
  const tensors = await c.encode();
  const state = snapshot.retrained ? 'retrained' : 'not retrained';
  return {
    ...fileHeader(run),
    architecture,
    embedding,
    compression: {
      method: result.method.id,
      label: `${result.method.label}, snapshot ${n} (${snapshot.label}, ${state})`,
      options: run.method.options,
      plan: { ...snapshot.plan, retrained: snapshot.retrained ? 1 : 0 },
    },
    tensors,
    metrics: {
      ...snapshot.metrics,
      ...sizeMetrics(result.model, table.values.length, weightBytes),
    },
    config: { train: run.train, method: run.method },
  };
}

/** What every model file of `run` starts with: the envelope and the dataset description. */
function fileHeader(run: KeptRun) {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    labVersion: LAB_VERSION,
    dataset: datasetDescription(run.dataset),
  } as const;
}
