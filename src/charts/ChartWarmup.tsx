import { useEffect, useState } from 'react';
import type { EvaluationMetrics } from '../../workers/protocol';
import type { SeriesPoint } from '../state/seriesBuffer';
import { LossChartView } from './LossChart';
import { ValidationChartView } from './ValidationChart';

/** How long the off-screen copies stay mounted: enough for recharts' measure-and-draw passes. */
const WARMUP_MS = 1500;

const POINTS: SeriesPoint[] = Array.from({ length: 200 }, (_, i) => ({
  step: i + 1,
  loss: 0.6 - 0.02 * Math.log1p(i) + 0.02 * Math.sin(i),
  smoothed: 0.6 - 0.02 * Math.log1p(i),
}));

const EVALUATIONS: EvaluationMetrics[] = Array.from({ length: 4 }, (_, i) => ({
  phase: 'train',
  method: {},
  epoch: i + 1,
  step: 100 * (i + 1),
  validationAuc: 0.6 + 0.02 * i,
  validationLogloss: 0.6 - 0.01 * i,
  trainLoss: 0.6 - 0.01 * i,
  testAuc: 0.6 + 0.02 * i,
  seconds: i + 1,
}));

/**
 * Draws both live charts once, off screen and hidden, when the app starts, then unmounts them.
 * A chart's first drawing with data runs recharts' code cold (parsed and compiled on first call)
 * and took 50-80 ms on the main thread, about two seconds into a run; drawn once here, before any
 * run, the drawings during training start warm.
 */
export function ChartWarmup() {
  const [done, setDone] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setDone(true), WARMUP_MS);
    return () => clearTimeout(timer);
  }, []);
  if (done) return null;
  return (
    <div className="chart-warmup" aria-hidden="true">
      <LossChartView points={POINTS} firstLoss={0.6} lastLoss={0.5} />
      <ValidationChartView evaluations={EVALUATIONS} bayes={0.8} />
    </div>
  );
}
