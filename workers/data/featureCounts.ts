/**
 * How often each feature (global id = field id + field offset) occurs in some rows: the
 * frequency that mixed-dimension embeddings, CpRec's blocks and the "size against frequency"
 * charts work from.
 */
import type { CtrDataset } from './dataset';

export function featureCounts(ds: CtrDataset, rows: Int32Array): Int32Array {
  const counts = new Int32Array(ds.totalVocabulary);
  const m = ds.numFields;
  for (let i = 0; i < rows.length; i++) {
    const base = rows[i] * m;
    for (let f = 0; f < m; f++) counts[ds.ids[base + f] + ds.fieldOffsets[f]]++;
  }
  return counts;
}
