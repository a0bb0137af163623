import { useMemo } from 'react';
import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { niceTicks } from './niceTicks';
import {
  CHART_GRID,
  formatTooltipValue,
  LINE_CHART_MARGIN,
  PLAIN_AXIS,
  seriesColor,
  TOOLTIP,
} from './chartProps';
import type { LabState } from '../state/labStore';
import type { SeriesPoint } from '../state/seriesBuffer';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { formatMetric } from '../format';
import { useRedrawTurn } from './useRedrawTurn';
import { LineLegend, type LegendEntry } from './LineLegend';

/** Train loss per step: bucket means of the raw batch losses, and their moving average. */
const selectLossPoints = (s: LabState) => s.run.lossPoints;
const selectFirstLoss = (s: LabState) => s.run.firstLoss;
const selectLastLoss = (s: LabState) => s.run.lastLoss;

/*
 * Axes as PLAIN_AXIS explains; the live loss chart also gets its domain and ticks from niceTicks,
 * which is cheaper than recharts' own nice-tick search on each update.
 */
/** A fixed domain and tick list once there is data; recharts' automatic ones before. */
type AxisFix = { domain?: [number, number]; ticks?: number[] };

/**
 * Same ticks give the same object, so the axis' props keep their identity between updates:
 * recharts re-registers an axis (and recomputes every chart part) when they change.
 */
function useFixedAxis(ticks: number[]): AxisFix {
  const key = ticks.join(',');
  return useMemo<AxisFix>(() => {
    const t = key === '' ? [] : key.split(',').map(Number);
    return t.length >= 2 ? { domain: [t[0], t[t.length - 1]], ticks: t } : {};
  }, [key]);
}

const formatLossTick = (v: number) => v.toFixed(3);
const BATCH_LOSS = seriesColor('#9db7d8');
const MOVING_AVERAGE = seriesColor('#1f5fa8');
const LEGEND: LegendEntry[] = [
  { key: 'loss', label: 'batch loss', color: BATCH_LOSS },
  { key: 'smoothed', label: 'moving average', color: MOVING_AVERAGE },
];

export function LossChart() {
  const points = useDeferredLabStore(selectLossPoints);
  const firstLoss = useDeferredLabStore(selectFirstLoss);
  const lastLoss = useDeferredLabStore(selectLastLoss);
  const view = useRedrawTurn(
    useMemo(() => ({ points, firstLoss, lastLoss }), [points, firstLoss, lastLoss]),
    'loss',
  );
  return <LossChartView testId="loss-chart" {...view} />;
}

export interface LossChartViewProps {
  /** data-testid of the card (none for the warm-up copy, see ChartWarmup). */
  testId?: string;
  points: SeriesPoint[];
  firstLoss: number;
  lastLoss: number;
}

/** The loss chart drawn from props (LossChart feeds it from the store). */
export function LossChartView({ testId, points, firstLoss, lastLoss }: LossChartViewProps) {
  const { xTicks, yTicks } = useMemo(() => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of points) {
      lo = Math.min(lo, p.loss, p.smoothed);
      hi = Math.max(hi, p.loss, p.smoothed);
    }
    return {
      xTicks: points.length > 0 ? niceTicks(points[0].step, points[points.length - 1].step, 6) : [],
      yTicks: niceTicks(lo, hi, 5),
    };
  }, [points]);
  const xAxis = useFixedAxis(xTicks);
  const yAxis = useFixedAxis(yTicks);
  return (
    <section
      className="chart-card"
      data-testid={testId}
      data-points={points.length}
      data-first-loss={Number.isFinite(firstLoss) ? firstLoss : ''}
      data-last-loss={Number.isFinite(lastLoss) ? lastLoss : ''}
    >
      <h3>
        Train loss{' '}
        <small>
          first 20 steps {formatMetric(firstLoss)} → last 20 {formatMetric(lastLoss)}
        </small>
      </h3>
      <ResponsiveContainer width="100%" height={216}>
        <LineChart data={points} margin={LINE_CHART_MARGIN}>
          <CartesianGrid {...CHART_GRID} />
          <XAxis {...PLAIN_AXIS} dataKey="step" type="number" {...xAxis} />
          <YAxis {...PLAIN_AXIS} {...yAxis} width={56} tickFormatter={formatLossTick} />
          <Tooltip {...TOOLTIP} formatter={formatTooltipValue} />
          {/* Straight segments: the 200 points are a few pixels apart. A smooth (monotone) curve
              made each redraw about a tenth dearer: recharts measures its length every time. */}
          <Line
            type="linear"
            dataKey="loss"
            name="batch loss"
            stroke={BATCH_LOSS}
            dot={false}
            isAnimationActive={false}
          />
          <Line
            type="linear"
            dataKey="smoothed"
            name="moving average"
            stroke={MOVING_AVERAGE}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
      <LineLegend entries={LEGEND} />
    </section>
  );
}
