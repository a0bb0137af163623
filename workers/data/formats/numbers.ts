/**
 * Number parsing straight from a range of a string (no substring, no regex) for the hot loop,
 * and the numeric transforms of the reference preprocessing.
 */

/** Marks an empty numeric field (distinct from every parse result, which is finite or NaN). */
export const EMPTY_NUMBER = Number.NEGATIVE_INFINITY;

/**
 * Parses text[start, end) as a decimal number: optional sign, digits, optional fraction
 * ("260.0" in some Criteo copies), optional exponent. Returns EMPTY_NUMBER for an empty range and
 * NaN for anything else that is not a number.
 */
export function parseNumberRange(text: string, start: number, end: number): number {
  if (start >= end) return EMPTY_NUMBER;
  let i = start;
  let sign = 1;
  let c = text.charCodeAt(i);
  if (c === 45 /* - */ || c === 43 /* + */) {
    if (c === 45) sign = -1;
    i++;
    if (i === end) return NaN;
  }
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
    digits++;
  }
  if (i === end)
    return digits > 0 && digits < 16
      ? sign * value
      : digits > 0
        ? slowParse(text, start, end)
        : NaN;
  // Rare path: fraction or exponent. Number() is exact where the digit loop would round.
  return slowParse(text, start, end);
}

/** parseNumberRange over bytes[start, end) (ASCII digits; any other byte makes it NaN). */
export function parseNumberBytes(bytes: Uint8Array, start: number, end: number): number {
  if (start >= end) return EMPTY_NUMBER;
  let i = start;
  let sign = 1;
  let c = bytes[i];
  if (c === 45 /* - */ || c === 43 /* + */) {
    if (c === 45) sign = -1;
    i++;
    if (i === end) return NaN;
  }
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    c = bytes[i];
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
    digits++;
  }
  if (i === end && digits > 0 && digits < 16) return sign * value;
  if (i === end && digits === 0) return NaN;
  return slowParse(asciiString(bytes, start, end), 0, end - start);
}

/** bytes[start, end) as a string of one character per byte (exact for ASCII). */
export function asciiString(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function slowParse(text: string, start: number, end: number): number {
  const s = text.substring(start, end);
  // Number() accepts '', ' ', '0x1f', 'Infinity': only plain decimals are numbers here.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 43 || c === 101 || c === 69;
    if (!ok) return NaN;
  }
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

/**
 * The Criteo-winner bucketing as the official PEP code writes it (data_loader/criteo.py,
 * convert_numeric_feature): v > 2 -> floor(ln(v)^2), else v - 2. The "- 2" matters: without it
 * the value 1 would share a bucket with 3 and 4 (floor(ln(3)^2) = 1) and the field sizes would not
 * match the reference's N = 2,525 on the 10k slice. Non-integers (float-written copies) are
 * floored first, as int() would after float parsing.
 */
export function criteoBucket(v: number): number {
  const x = Math.floor(v);
  // Most values are small integers: a table saves a Math.log per field.
  if (x >= 0 && x < TABLE_SIZE) return bucketTable()[x];
  if (x > 2) {
    const l = Math.log(x);
    return Math.floor(l * l);
  }
  return x - 2;
}

/** Bucket value used for an empty numeric field; its token is 'NULL' as in the reference. */
export const NULL_BUCKET = 0x7fffffff;

export function bucketToken(bucket: number): string {
  return bucket === NULL_BUCKET ? 'NULL' : String(bucket);
}

/** DLRM dense transform: log(x + 1) with negatives and empties clamped to 0. */
export function dlrmDense(v: number): number {
  if (v <= 0) return 0;
  if (v < TABLE_SIZE && v === Math.floor(v)) return denseTable()[v];
  return Math.log(v + 1);
}

const TABLE_SIZE = 1 << 16;
let buckets: Int32Array | null = null;
let denses: Float32Array | null = null;

function bucketTable(): Int32Array {
  if (!buckets) {
    buckets = new Int32Array(TABLE_SIZE);
    for (let x = 0; x < TABLE_SIZE; x++) {
      const l = Math.log(x);
      buckets[x] = x > 2 ? Math.floor(l * l) : x - 2;
    }
  }
  return buckets;
}

function denseTable(): Float32Array {
  if (!denses) {
    denses = new Float32Array(TABLE_SIZE);
    for (let x = 0; x < TABLE_SIZE; x++) denses[x] = Math.log(x + 1);
  }
  return denses;
}
