/**
 * The hashing trick's hash, shared by the training code and the scorer (tfjs-free): feature i of
 * a field reads row ((a * i + b) mod p) mod k of the field's k rows, p = 2^31 - 1, with a in
 * [1, p - 1] and b in [0, p - 1] (a universal family).
 */
export const HASH_PRIME = 2147483647;

/** (a * x) mod p for a, x < 2^31 without leaving exact double arithmetic. */
function mulMod(a: number, x: number): number {
  const high = Math.floor(a / 65536);
  const low = a % 65536;
  return (((high * x) % HASH_PRIME) * 65536 + low * x) % HASH_PRIME;
}

export interface FieldHash {
  a: number;
  b: number;
  buckets: number;
}

export function hashBucket(h: FieldHash, id: number): number {
  return ((mulMod(h.a, id) + h.b) % HASH_PRIME) % h.buckets;
}
