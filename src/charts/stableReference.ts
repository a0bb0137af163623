import { memo } from 'react';
// eslint-disable-next-line no-restricted-imports -- the one place that wraps them
import { ReferenceDot, ReferenceLine } from 'recharts';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function sameEntries(a: Record<string, unknown>, b: Record<string, unknown>, deeper: boolean) {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    const x = a[k];
    const y = b[k];
    if (Object.is(x, y)) continue;
    // A label written inline ({ value, position, fill }) is a new object on every render.
    if (deeper && isPlainObject(x) && isPlainObject(y) && sameEntries(x, y, false)) continue;
    return false;
  }
  return true;
}

/** Props equal key by key, plain-object props (labels) compared one level deeper. */
export function sameReferenceProps(a: object, b: object): boolean {
  return sameEntries(a as Record<string, unknown>, b as Record<string, unknown>, true);
}

/*
 * recharts' ReferenceLine and ReferenceDot report themselves to the chart's store in an effect
 * without dependencies: every render of the chart that holds them removes and adds each one
 * again, and each of those two actions makes every part of the chart recompute its selectors.
 * In a chart that redraws as a run streams in, the markers' lines were about a fifth of the main
 * thread's allocations. These render again only when their own props change.
 */

/** recharts' ReferenceLine, drawn again only when its props change. */
export const StableReferenceLine = memo(ReferenceLine, sameReferenceProps);

/** recharts' ReferenceDot, drawn again only when its props change. */
export const StableReferenceDot = memo(ReferenceDot, sameReferenceProps);
