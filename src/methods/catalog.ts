/**
 * The compression methods the form offers: every `workers/methods/<id>/spec.ts` (tfjs-free
 * declarations), found by file name so that adding a method touches its folder and the worker's
 * registry line only. A unit test checks that this catalog and the worker's registry agree.
 */
import type { MethodSpec } from '../../workers/methods/methodSpec';

const modules = import.meta.glob<Record<string, unknown>>('../../workers/methods/*/spec.ts', {
  eager: true,
});

function isMethodSpec(value: unknown): value is MethodSpec {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as MethodSpec).id === 'string' &&
    typeof (value as MethodSpec).options === 'object' &&
    Array.isArray((value as MethodSpec).series)
  );
}

export const METHOD_CATALOG: readonly MethodSpec[] = Object.values(modules)
  .flatMap((exports) => Object.values(exports).filter(isMethodSpec))
  .sort((a, b) => a.order - b.order);

export function methodSpecOf(id: string | undefined): MethodSpec | null {
  return METHOD_CATALOG.find((m) => m.id === id) ?? null;
}
