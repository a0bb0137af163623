/**
 * Every compression method of the lab, one line each. A method is its folder (spec.ts with its
 * options and series, method.ts with its phases) plus its line here; the UI finds the specs by
 * their file names (src/methods/catalog.ts).
 */
import type { CompressionMethod } from './method';
import type { MethodSpec } from './methodSpec';
import { noneMethod } from './none/method';
import { uniformDimMethod } from './uniform-dim/method';
import { magnitudeMethod } from './magnitude/method';
import { hashingMethod } from './hashing/method';
import { qrMethod } from './qr/method';

export const METHODS: readonly CompressionMethod[] = [
  noneMethod,
  uniformDimMethod,
  magnitudeMethod,
  hashingMethod,
  qrMethod,
];

export const METHOD_SPECS: readonly MethodSpec[] = METHODS.map((m) => m.spec);

export function methodById(id: string): CompressionMethod {
  const method = METHODS.find((m) => m.spec.id === id);
  if (!method) {
    throw new Error(
      `Unknown compression method "${id}" (one of ${METHODS.map((m) => m.spec.id).join(', ')})`,
    );
  }
  return method;
}
