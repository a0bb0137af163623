import { memo, useMemo } from 'react';
import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { StableReferenceLine } from './stableReference';
import { formatCount } from '../format';
import { frequencyCurve } from '../state/seqFigures';
import {
  CHART_GRID,
  CHART_TEXT,
  LINE_CHART_MARGIN,
  PLAIN_AXIS,
  seriesColor,
  TOOLTIP,
} from './chartProps';
import { logTicks } from './niceTicks';

const X_LABEL = {
  value: 'item frequency rank (log)',
  position: 'bottom' as const,
  offset: 0,
  fontSize: 12,
  fill: CHART_TEXT,
};
const Y_LABEL = {
  value: 'occurrences (log)',
  angle: -90,
  position: 'insideLeft' as const,
  offset: 4,
  fontSize: 12,
  fill: CHART_TEXT,
};
const CUT_COLOUR = seriesColor('#8e44ad');
const formatTooltip = (v: unknown) =>
  typeof v === 'number' ? v.toLocaleString('en-US') : String(v);
const formatRankLabel = (rank: unknown) => `rank ${String(rank)}`;

export interface ItemFrequencyChartProps {
  /** Occurrences of each item in rank order (most frequent first). */
  frequencies: number[];
  /** Ranks where one CpRec block ends and the next begins (none for the plain NextItNet). */
  cuts: number[];
}

/**
 * How often each item occurs against its frequency rank, on log-log axes (a long tail is close
 * to a straight line), with CpRec's block cuts as vertical lines: items left of the first cut
 * keep the full embedding, each block to the right a smaller one.
 */
export const ItemFrequencyChart = memo(function ItemFrequencyChart({
  frequencies,
  cuts,
}: ItemFrequencyChartProps) {
  const points = useMemo(() => frequencyCurve(frequencies), [frequencies]);
  const { xTicks, yTicks } = useMemo(() => {
    if (points.length === 0) return { xTicks: [], yTicks: [] };
    let lo = Infinity;
    let hi = 0;
    for (const p of points) {
      lo = Math.min(lo, p.count);
      hi = Math.max(hi, p.count);
    }
    return { xTicks: logTicks(1, points[points.length - 1].rank), yTicks: logTicks(lo, hi) };
  }, [points]);
  if (points.length === 0) return <div className="chart-empty">No item occurs in this data.</div>;
  return (
    <ResponsiveContainer width="100%" height={240}>
      <LineChart data={points} margin={{ ...LINE_CHART_MARGIN, left: 12, bottom: 20 }}>
        <CartesianGrid {...CHART_GRID} />
        <XAxis
          {...PLAIN_AXIS}
          dataKey="rank"
          type="number"
          scale="log"
          domain={[xTicks[0], xTicks[xTicks.length - 1]]}
          ticks={xTicks}
          allowDataOverflow
          tickFormatter={formatCount}
          label={X_LABEL}
        />
        <YAxis
          {...PLAIN_AXIS}
          dataKey="count"
          type="number"
          scale="log"
          domain={[yTicks[0], yTicks[yTicks.length - 1]]}
          ticks={yTicks}
          allowDataOverflow
          width={64}
          tickFormatter={formatCount}
          label={Y_LABEL}
        />
        <Tooltip {...TOOLTIP} formatter={formatTooltip} labelFormatter={formatRankLabel} />
        {cuts.map((rank, i) => (
          <StableReferenceLine
            key={`${rank}-${i}`}
            x={rank}
            stroke={CUT_COLOUR}
            strokeDasharray="6 3"
            strokeWidth={1.5}
            label={{
              value: `cut ${i + 1}: rank ${rank.toLocaleString('en-US')}`,
              position: 'insideTopRight',
              fontSize: 11,
              fill: CUT_COLOUR,
              dy: (i % 2) * 13,
            }}
          />
        ))}
        <Line
          dataKey="count"
          name="occurrences"
          stroke={seriesColor('#1f5fa8')}
          strokeWidth={2}
          dot={false}
          isAnimationActive={false}
        />
      </LineChart>
    </ResponsiveContainer>
  );
});
