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
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type Architecture,
  type DatasetDescription,
  type DenseRef,
  type MlpRef,
  type ModelFile,
} from './modelFormat';
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

/** The model file of a kept run. */
export async function exportRun(run: KeptRun): Promise<ModelFile> {
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
  const embeddingParts = summary.parts.filter((p) => p.part === 'embedding');
  const embeddingParameters = embeddingParts.reduce((a, p) => a + p.params, 0);
  const best = result.phases.filter((p) => !p.skipped).at(-1)?.bestEvaluation ?? null;
  // The same model uncompressed: its dense parts plus the full N x d table.
  const compressedParts = summary.parts.filter(
    (p) => p.part === 'embedding' || p.part === 'projection',
  );
  const denseParams =
    summary.totalParams -
    compressedParts.reduce((a, p) => a + p.params, 0) +
    summary.denseEmbeddingParams;
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    labVersion: LAB_VERSION,
    dataset: datasetDescription(run.dataset),
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
      sparsity: 1 - embeddingParameters / Math.max(1, summary.denseEmbeddingParams),
      parameters: summary.totalParams,
      embeddingParameters,
      denseEmbeddingParameters: summary.denseEmbeddingParams,
      flopsPerExample: summary.flopsPerExample,
      weightBytes,
      denseWeightBytes: 4 * denseParams,
    },
    config: { train: run.train, method: run.method },
  };
}
