/**
 * The view of a dataset a model trains on. DLRM takes Criteo's integer columns as dense inputs
 * (log(x+1), through its bottom MLP) and embeds only the categorical columns: 26 tables on Criteo,
 * an interaction of 16 + 26 x 16 = 432 (UMEC). The loader also keeps those integer columns as
 * bucketed categorical fields (what FM, DeepFM and AutoInt embed, as PEP does), so for DLRM they
 * are left out here rather than embedded twice.
 */
import { fieldOffsetsOf, type CtrDataset } from '../data/dataset';
import type { ModelKind } from '../protocol';

/** Keeps only `fields` (in order): ids copied into a [rows, fields] array, dims re-offset. */
export function selectFields(ds: CtrDataset, fields: number[]): CtrDataset {
  const m = ds.numFields;
  const k = fields.length;
  const ids = new Int32Array(ds.numRows * k);
  for (let r = 0; r < ds.numRows; r++) {
    const src = r * m;
    const dst = r * k;
    for (let j = 0; j < k; j++) ids[dst + j] = ds.ids[src + fields[j]];
  }
  const fieldDims = Int32Array.from(fields, (f) => ds.fieldDims[f]);
  return {
    ...ds,
    numFields: k,
    fieldNames: fields.map((f) => ds.fieldNames[f]),
    fieldDims,
    fieldOffsets: fieldOffsetsOf(fieldDims),
    totalVocabulary: fieldDims.reduce((a, b) => a + b, 0),
    ids,
    vocabularies: ds.vocabularies ? fields.map((f) => ds.vocabularies![f]) : undefined,
  };
}

/** DLRM views already built, so a dataset's ids are copied once, not on every run or preview. */
const dlrmViews = new WeakMap<CtrDataset, CtrDataset>();

/** The dataset as `model` sees it (DLRM: without the bucketed copies of its dense inputs). */
export function datasetForModel(ds: CtrDataset, model: ModelKind): CtrDataset {
  const vocabularies = ds.vocabularies;
  if (model !== 'dlrm' || !ds.numDense || !ds.dense || !vocabularies) return ds;
  let view = dlrmViews.get(ds);
  if (!view) {
    const keep = vocabularies.flatMap((v, f) => (v.transform === 'criteo-bucket' ? [] : [f]));
    view = keep.length === ds.numFields ? ds : selectFields(ds, keep);
    dlrmViews.set(ds, view);
  }
  return view;
}
