/**
 * Lookup over the methods listed in all.ts (the one line per method lives there).
 */
import * as ALL from './all';
import type { CompressionMethod } from './method';
import type { MethodSpec } from './methodSpec';

export const METHODS: readonly CompressionMethod[] = Object.values(
  ALL as Record<string, CompressionMethod>,
).sort((a, b) => a.spec.order - b.spec.order);

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
