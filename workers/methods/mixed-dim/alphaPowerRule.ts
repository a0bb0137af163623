/**
 * DLRM's md_solver with a base dimension d0 (facebookresearch/dlrm, tricks/md_embedding_bag.py):
 * the field with the fewest values keeps d0, a field with n values gets
 * round(d0 * (n_min / n)^alpha), at least 1; optionally rounded to a power of two
 * (2^round(log2 d)). Each field's "popularity" is taken as 1/n, as md_solver does with the
 * table sizes.
 */
export function alphaPowerDims(
  fieldDims: ArrayLike<number>,
  baseDim: number,
  alpha: number,
  roundToPowerOfTwo: boolean,
): Int32Array {
  let nMin = Infinity;
  for (let f = 0; f < fieldDims.length; f++) nMin = Math.min(nMin, fieldDims[f]);
  return Int32Array.from({ length: fieldDims.length }, (_, f) => {
    const n = fieldDims[f];
    let d = n === nMin ? baseDim : Math.max(1, Math.round(baseDim * (nMin / n) ** alpha));
    if (roundToPowerOfTwo) d = 2 ** Math.round(Math.log2(d));
    return Math.min(baseDim, d);
  });
}
