/**
 * The mean L2 norm of each field's embedding vectors: which fields the model makes use of (a
 * pure-noise field's vectors shrink under weight decay; an informative field's grow). Every
 * method that keeps a per-feature vector can stream it as a 'vector' series.
 */
import type { CtrDataset } from '../../data/dataset';
import type { ChartSpec, SeriesSpec } from '../methodSpec';

export const FIELD_NORM_CHART: ChartSpec = {
  id: 'field-norms',
  title: 'Embedding norm per field',
  help: 'Mean L2 norm of each field’s feature vectors: fields the model relies on grow, noise fields shrink',
  type: 'bars',
  xLabel: 'field',
  yLabel: 'mean ‖v‖',
};

export const FIELD_NORM_SERIES: SeriesSpec = {
  id: 'field-norm',
  label: 'mean norm',
  kind: 'vector',
  chart: FIELD_NORM_CHART.id,
  color: '#1f5fa8',
};

/**
 * Mean norm per field of the vectors `vectorOf` writes (each feature's vector of width `dim`,
 * features by global id).
 */
export function fieldMeanNorms(
  ds: CtrDataset,
  dim: number,
  vectorOf: (globalId: number, out: Float32Array) => void,
): Float32Array {
  const out = new Float32Array(ds.numFields);
  const v = new Float32Array(dim);
  for (let f = 0; f < ds.numFields; f++) {
    const start = ds.fieldOffsets[f];
    const n = ds.fieldDims[f];
    let sum = 0;
    for (let id = start; id < start + n; id++) {
      vectorOf(id, v);
      let sq = 0;
      for (let k = 0; k < dim; k++) sq += v[k] * v[k];
      sum += Math.sqrt(sq);
    }
    out[f] = n > 0 ? sum / n : 0;
  }
  return out;
}

/** Mean norm per field of the rows of an [N, dim] table addressed by global id. */
export function tableFieldNorms(ds: CtrDataset, weights: Float32Array, dim: number): Float32Array {
  return fieldMeanNorms(ds, dim, (id, out) => out.set(weights.subarray(id * dim, (id + 1) * dim)));
}
