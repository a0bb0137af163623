/**
 * Round-numbered axis ticks (1, 2 or 5 times a power of ten apart) covering [min, max], computed
 * here so that live charts hand recharts a fixed domain and tick list instead of having it derive
 * "nice" ticks with arbitrary-precision decimals on every update.
 */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || count < 2) return [];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.05;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / (count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  // Rounding to the step's decimals keeps 0.30000000000000004 out of the labels.
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  for (let v = first; v < max + step * 0.5; v += step) ticks.push(Number(v.toFixed(decimals)));
  if (ticks[ticks.length - 1] < max)
    ticks.push(Number((first + ticks.length * step).toFixed(decimals)));
  return ticks;
}

/**
 * Ticks for a log axis covering [min, max] (both > 0): 1, 2 and 5 times each power of ten when
 * the range spans at most two decades, powers of ten only when it spans more. The first tick is
 * at or below min and the last at or above max, so [first, last] is the axis' domain.
 */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max < min) [min, max] = [max, min];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(max)));
  const mantissas = hi - lo <= 2 ? [1, 2, 5] : [1];
  const candidates: number[] = [];
  for (let e = lo; e <= hi; e++) {
    for (const m of mantissas) candidates.push(Number((m * 10 ** e).toPrecision(12)));
  }
  let first = 0;
  while (first + 1 < candidates.length && candidates[first + 1] <= min) first++;
  let last = candidates.findIndex((v) => v >= max);
  if (last < 0) last = candidates.length - 1;
  // A single value still gets an axis: one tick above it.
  if (last === first) last = Math.min(candidates.length - 1, last + 1);
  return candidates.slice(first, last + 1);
}

/**
 * Axis ticks that fit the 56-px axis: 4,000, then 135k and 1.385M (four significant digits, so
 * that close ticks stay apart), small values in exponent form.
 */
export const formatAxisTick = (v: number) => {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(4)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(4)}k`;
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a < 0.01 && v !== 0) return v.toExponential(1);
  return String(+v.toFixed(3));
};
