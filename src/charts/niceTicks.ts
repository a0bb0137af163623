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
