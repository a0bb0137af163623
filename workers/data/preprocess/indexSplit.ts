/**
 * A split given as raw row numbers (a JSON beside the data file, e.g. the DLRM reference run's
 * criteo10k_dlrm_split_seed123.json): the rows keep the lists' order, rows listed in no split are
 * dropped from the dataset, and listed rows that are not among the loaded rows are counted as
 * rejected (malformed) or not loaded (past the end of the data, or after the first N rows).
 */
import type { CtrSplit } from '../dataset';
import type { RowIndexSplit } from '../formats/sideJson';
import type { CtrRows } from './ctrRowStore';
import { permuteRows } from './rowSampling';

export interface AppliedIndexSplit {
  /** The loaded rows that some split lists, in their original order (tags: raw row numbers). */
  rows: CtrRows;
  split: CtrSplit;
  unlisted: number;
  listedRejected: number;
  listedNotLoaded: number;
  /** The first few raw row numbers that are listed but were rejected. */
  rejectedSample: number[];
}

/**
 * `rows.tags` must hold each loaded row's raw row number; `rejectedRaw` lists the raw row
 * numbers of the rejected lines.
 */
export function applyRowIndexSplit(
  rows: CtrRows,
  numFields: number,
  numDense: number,
  listed: RowIndexSplit,
  rejectedRaw: Int32Array,
): AppliedIndexSplit {
  const raw = rows.tags;
  if (!raw) throw new Error('applyRowIndexSplit needs the raw row number of each row');
  const n = rows.numRows;
  const lists = [listed.train, listed.validation, listed.test];
  let maxRaw = -1;
  for (let k = 0; k < n; k++) maxRaw = Math.max(maxRaw, raw[k]);
  for (const list of lists)
    for (let i = 0; i < list.length; i++) maxRaw = Math.max(maxRaw, list[i]);
  const rowOfRaw = new Int32Array(maxRaw + 1).fill(-1);
  for (let k = 0; k < n; k++) rowOfRaw[raw[k]] = k;
  const rejected = new Uint8Array(maxRaw + 1);
  for (let i = 0; i < rejectedRaw.length; i++)
    if (rejectedRaw[i] >= 0 && rejectedRaw[i] <= maxRaw) rejected[rejectedRaw[i]] = 1;

  const used = new Uint8Array(n);
  let listedRejected = 0;
  let listedNotLoaded = 0;
  const rejectedSample: number[] = [];
  const found = lists.map((list) => {
    const out = new Int32Array(list.length);
    let m = 0;
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      const k = rowOfRaw[r];
      if (k >= 0) {
        used[k] = 1;
        out[m++] = k;
      } else if (rejected[r] === 1) {
        listedRejected++;
        if (rejectedSample.length < 5) rejectedSample.push(r);
      } else {
        listedNotLoaded++;
      }
    }
    return out.subarray(0, m);
  });

  // Drop the rows no split lists; renumber the rest.
  const newIndex = new Int32Array(n);
  let kept = 0;
  for (let k = 0; k < n; k++) newIndex[k] = used[k] === 1 ? kept++ : -1;
  const unlisted = n - kept;
  const split: CtrSplit = {
    train: found[0].map((k) => newIndex[k]),
    validation: found[1].map((k) => newIndex[k]),
    test: found[2].map((k) => newIndex[k]),
  };
  if (unlisted === 0)
    return { rows, split, unlisted, listedRejected, listedNotLoaded, rejectedSample };
  // The listed rows in their original order: a gather, as the reservoir sample's reordering.
  const keptRows = new Int32Array(kept);
  for (let k = 0; k < n; k++) if (newIndex[k] >= 0) keptRows[newIndex[k]] = k;
  return {
    rows: {
      numRows: kept,
      ids: permuteRows(rows.ids, keptRows, numFields, new Int32Array(kept * numFields)),
      labels: permuteRows(rows.labels, keptRows, 1, new Float32Array(kept)),
      dense: rows.dense
        ? permuteRows(rows.dense, keptRows, numDense, new Float32Array(kept * numDense))
        : null,
      times: rows.times ? permuteRows(rows.times, keptRows, 1, new Float64Array(kept)) : null,
      tags: permuteRows(raw, keptRows, 1, new Int32Array(kept)),
    },
    split,
    unlisted,
    listedRejected,
    listedNotLoaded,
    rejectedSample,
  };
}
