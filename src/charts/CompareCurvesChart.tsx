/**
 * A validation metric over training steps of several finished runs of one task, overlaid (AUC of
 * click-through runs, a ranking metric of next-item runs): one line per run, coloured by its
 * method (dashed for the second run of a method, dotted for the third...).
 */
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
import type { CurveLine } from '../state/compareRuns';
import {
  CHART_GRID,
  CHART_TEXT,
  formatTooltipValue,
  LINE_CHART_MARGIN,
  PLAIN_AXIS,
  TOOLTIP,
} from './chartProps';
import { niceTicks } from './niceTicks';
import { methodColor } from './methodColors';
import { LineLegend } from './LineLegend';

const DASHES = [undefined, '6 3', '2 3', '8 3 2 3'];

const X_LABEL = {
  value: 'training step',
  position: 'bottom' as const,
  offset: 4,
  fontSize: 12,
  fill: CHART_TEXT,
};
const formatMetricTick = (v: number) => v.toFixed(3);

export const CompareCurvesChart = memo(function CompareCurvesChart({
  runs,
  yLabel,
}: {
  runs: CurveLine[];
  /** The metric drawn, e.g. "validation AUC". */
  yLabel: string;
}) {
  const { lines, xTicks, yTicks } = useMemo(() => {
    const seen = new Map<string, number>();
    const lines = runs.map((r) => {
      const n = seen.get(r.methodId) ?? 0;
      seen.set(r.methodId, n + 1);
      return {
        id: r.id,
        name: r.name,
        color: methodColor(r.methodId),
        dash: DASHES[n % DASHES.length],
        data: r.data,
      };
    });
    const all = lines.flatMap((l) => l.data);
    const finite = all.filter((p) => Number.isFinite(p.value));
    return {
      lines,
      xTicks: niceTicks(0, Math.max(1, ...all.map((p) => p.step)), 6),
      yTicks: niceTicks(
        Math.min(...finite.map((p) => p.value)) - 0.005,
        Math.max(...finite.map((p) => p.value)) + 0.005,
        5,
      ),
    };
  }, [runs]);
  const yAxisLabel = useMemo(
    () => ({
      value: yLabel,
      angle: -90,
      position: 'insideLeft' as const,
      offset: 0,
      fontSize: 12,
      fill: CHART_TEXT,
    }),
    [yLabel],
  );
  const points = lines.reduce((a, l) => a + l.data.length, 0);
  return (
    <div data-testid="compare-curves" data-runs={lines.length} data-points={points}>
      <LineLegend
        entries={lines.map((l) => ({ key: l.id, label: l.name, color: l.color, dashed: !!l.dash }))}
      />
      {points === 0 ? (
        <div className="chart-empty">These runs have no validation evaluations.</div>
      ) : (
        <ResponsiveContainer width="100%" height={260}>
          <LineChart margin={{ ...LINE_CHART_MARGIN, left: 8, bottom: 20 }}>
            <CartesianGrid {...CHART_GRID} />
            <XAxis
              {...PLAIN_AXIS}
              dataKey="step"
              type="number"
              domain={[xTicks[0] ?? 0, xTicks.at(-1) ?? 'dataMax']}
              ticks={xTicks}
              label={X_LABEL}
            />
            <YAxis
              {...PLAIN_AXIS}
              dataKey="value"
              type="number"
              domain={[yTicks[0] ?? 'auto', yTicks.at(-1) ?? 'auto']}
              ticks={yTicks}
              allowDataOverflow
              width={72}
              tickFormatter={formatMetricTick}
              label={yAxisLabel}
            />
            <Tooltip {...TOOLTIP} formatter={formatTooltipValue} />
            {lines.map((l) => (
              <Line
                key={l.id}
                data={l.data}
                dataKey="value"
                name={l.name}
                stroke={l.color}
                strokeDasharray={l.dash}
                strokeWidth={2}
                dot={l.data.length <= 30}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </div>
  );
});
