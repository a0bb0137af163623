/**
 * A model file opened in the lab: its card (what it is, what it stores, how well it did) and its
 * evaluation on the dataset the lab has loaded, with the scorer (no tfjs). The loaded data's ids
 * are translated to the model's through the raw values (tokens) of each field, so a slice loaded
 * again with other settings is still scored right; fields are matched by name.
 */
import type { CtrDataset } from '../data/dataset';
import {
  accuracy,
  calibrationRatio,
  logloss,
  meanPerBatchAuc,
  rocAuc,
} from '../metrics/classification';
import type { ImportedModelCard, TestMetrics } from '../protocol';
import { ModelScorer } from '../scorer/modelScorer';
import type { DecodedModel } from './readModel';

/** Parameters and bytes of the file's tensors, grouped by the part of the model they belong to. */
function partsOf(model: DecodedModel): { part: string; params: number; bytes: number }[] {
  const groups = new Map<string, { params: number; bytes: number }>();
  for (const [name, t] of Object.entries(model.file.tensors)) {
    const part = name.startsWith('embedding')
      ? 'embedding'
      : name === 'linear' || name === 'bias'
        ? 'linear'
        : name.startsWith('attention')
          ? 'attention'
          : name.startsWith('bottom')
            ? 'bottom-mlp'
            : name.startsWith('top')
              ? 'top-mlp'
              : 'mlp';
    const size = t.shape.reduce((a, b) => a * b, 1);
    const g = groups.get(part) ?? { params: 0, bytes: 0 };
    g.bytes += size * (t.dtype === 'uint8' ? 1 : 4);
    // Masks are index structure, not parameters.
    if (t.dtype === 'float32') g.params += size;
    groups.set(part, g);
  }
  return [...groups].map(([part, g]) => ({ part, ...g }));
}

export function cardOf(
  model: DecodedModel,
  fileName: string,
  fileBytes: number,
): ImportedModelCard {
  const f = model.file;
  const a = f.architecture;
  return {
    fileName,
    fileBytes,
    createdAt: f.createdAt,
    labVersion: f.labVersion,
    model: a.model,
    embeddingDim: a.embeddingDim,
    numFields: a.numFields,
    method: f.compression.method,
    methodLabel: f.compression.label,
    embeddingKind: f.embedding.kind,
    datasetName: f.dataset.name,
    fieldNames: f.dataset.fields.map((x) => x.name),
    rawInput: f.dataset.input.kind,
    parts: partsOf(model),
    metrics: { ...f.metrics },
    plan: { ...f.compression.plan },
  };
}

/** For each model field, a map from the loaded dataset's ids to the model's ids. */
function translations(model: DecodedModel, ds: CtrDataset): { source: number; map: Int32Array }[] {
  return model.file.dataset.fields.map((field) => {
    const source = ds.fieldNames.indexOf(field.name);
    if (source < 0) {
      throw new Error(`the loaded data has no field "${field.name}", which the model reads`);
    }
    const rows = ds.fieldDims[source];
    const map = new Int32Array(rows);
    const vocab = ds.vocabularies?.[source];
    if (!field.tokens || !vocab || vocab.transform === 'id') {
      // Ids are ids: the same field of the same data (the synthetic slice, a reference encoding).
      if (rows > field.rows) {
        throw new Error(
          `field ${field.name} has ${rows} ids in the loaded data, the model knows ${field.rows}`,
        );
      }
      for (let i = 0; i < rows; i++) map[i] = i;
      return { source, map };
    }
    const index = new Map(field.tokens.map((t, i) => [t, i]));
    const fallback = field.rareId ?? 0;
    for (let i = 0; i < rows; i++) {
      // The loaded data's own rare id stands for values the model saw as rare too.
      const token = i < vocab.tokens.length ? vocab.tokens[i] : null;
      map[i] = token === null ? fallback : (index.get(token) ?? fallback);
    }
    return { source, map };
  });
}

/** Scores `rows` of the loaded dataset with the imported model. */
export function evaluateImported(
  model: DecodedModel,
  ds: CtrDataset,
  rows: Int32Array,
): TestMetrics {
  const scorer = new ModelScorer(model);
  const fields = translations(model, ds);
  const m = fields.length;
  const k = ds.numDense ?? 0;
  const a = model.file.architecture;
  const numDense = a.model === 'dlrm' ? a.numDense : 0;
  const wantDense = numDense > 0;
  if (wantDense && (k !== numDense || !ds.dense)) {
    throw new Error(`the model reads ${numDense} dense features, the loaded data has ${k}`);
  }
  const ids = new Int32Array(m);
  const scratch = new Float64Array(m * scorer.dim);
  const probs = new Float64Array(rows.length);
  const labels = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    for (let f = 0; f < m; f++) {
      const { source, map } = fields[f];
      ids[f] = map[ds.ids[r * ds.numFields + source]];
    }
    const dense = wantDense && ds.dense ? ds.dense.subarray(r * k, (r + 1) * k) : null;
    probs[i] = scorer.probability(ids, dense, scratch);
    labels[i] = ds.labels[r];
  });
  return {
    auc: rocAuc(probs, labels),
    logloss: logloss(probs, labels),
    accuracy: accuracy(probs, labels),
    calibration: calibrationRatio(probs, labels),
    meanPerBatchAuc: meanPerBatchAuc(probs, labels, 1024).meanAuc,
  };
}
