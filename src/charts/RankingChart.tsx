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
import {
  RANKING_METRIC_KEYS,
  RANKING_METRIC_LABELS,
  type RankingMetrics,
  type SeqEvaluation,
} from '../../workers/sequence/seqProtocol';
import {
  CHART_GRID,
  CHART_REF,
  CHART_TEXT,
  formatTooltipValue,
  LINE_CHART_MARGIN,
  markerLabel,
  PLAIN_AXIS,
  seriesColor,
  TOOLTIP,
} from './chartProps';
import { LineLegend, type LegendEntry } from './LineLegend';
import { niceTicks } from './niceTicks';

export type RankingMetricKey = (typeof RANKING_METRIC_KEYS)[number];

/** @5 a paler shade of its @20 colour (a dimmer one on the dark theme): one hue per metric. */
export const RANKING_COLOURS: Record<RankingMetricKey, string> = {
  mrr5: seriesColor('#6aa5e0'),
  mrr20: seriesColor('#1f5fa8'),
  hr5: seriesColor('#e39a5c'),
  hr20: seriesColor('#c2571a'),
  ndcg5: seriesColor('#7cc47f'),
  ndcg20: seriesColor('#2e7d32'),
};

/** Shown until the user picks others: one cut-off keeps the chart readable. */
export const DEFAULT_RANKING_METRICS: RankingMetricKey[] = ['mrr20', 'hr20', 'ndcg20'];

const X_LABEL = {
  value: 'step',
  position: 'insideBottomRight' as const,
  offset: -4,
  fontSize: 12,
  fill: CHART_TEXT,
};
const Y_LABEL = {
  value: 'score (0 to 1)',
  angle: -90,
  position: 'insideLeft' as const,
  offset: 8,
  fontSize: 12,
  fill: CHART_TEXT,
};
const formatScoreTick = (v: number) => v.toFixed(2);

export interface RankingChartProps {
  evaluations: SeqEvaluation[];
  /** The metrics drawn, in RANKING_METRIC_KEYS order. */
  metrics: RankingMetricKey[];
  /** The most-popular-item baseline on the test split: a dashed line per drawn metric. */
  baseline: RankingMetrics | null;
  /** The run's last step, or the planned one before a run (the axis spans the whole run). */
  totalSteps: number;
  /** Settings changed while training: numbered vertical lines. */
  markers: { step: number; label: string }[];
}

/** Validation ranking metrics at each evaluation, the popularity baseline dashed beside them. */
export const RankingChart = memo(function RankingChart({
  evaluations,
  metrics,
  baseline,
  totalSteps,
  markers,
}: RankingChartProps) {
  // Before the first evaluation one empty row gives the axes a domain, so the baseline's dashed
  // lines are drawn already (recharts draws no reference line on a chart without data).
  const data = useMemo(
    () =>
      evaluations.length > 0
        ? evaluations.map((e) => ({ step: e.step, epoch: e.epoch, ...e.validation }))
        : [{ step: 0 }],
    [evaluations],
  );
  const yTicks = useMemo(() => {
    let hi = 0;
    for (const e of evaluations) for (const k of metrics) hi = Math.max(hi, e.validation[k]);
    if (baseline) for (const k of metrics) hi = Math.max(hi, baseline[k]);
    return niceTicks(0, Math.min(1, Math.max(hi, 0.05)), 5);
  }, [evaluations, metrics, baseline]);
  const lastStep = Math.max(totalSteps, evaluations.at(-1)?.step ?? 0, 1);
  const legend = useMemo<LegendEntry[]>(
    () =>
      metrics.map((k) => ({
        key: k,
        label: `validation ${RANKING_METRIC_LABELS[k]}`,
        color: RANKING_COLOURS[k],
      })),
    [metrics],
  );
  return (
    <>
      <ResponsiveContainer width="100%" height={236}>
        <LineChart data={data} margin={{ ...LINE_CHART_MARGIN, left: 8, bottom: 8 }}>
          <CartesianGrid {...CHART_GRID} />
          <XAxis
            {...PLAIN_AXIS}
            dataKey="step"
            type="number"
            domain={[0, lastStep]}
            ticks={niceTicks(0, lastStep, 6).filter((t) => t <= lastStep)}
            label={X_LABEL}
          />
          <YAxis
            {...PLAIN_AXIS}
            domain={[0, yTicks.at(-1) ?? 1]}
            ticks={yTicks}
            allowDataOverflow
            width={56}
            tickFormatter={formatScoreTick}
            label={Y_LABEL}
          />
          <Tooltip
            {...TOOLTIP}
            formatter={formatTooltipValue}
            labelFormatter={(s) => `step ${String(s)}`}
          />
          {baseline &&
            metrics.map((k) => (
              <StableReferenceLine
                key={`popular-${k}`}
                y={baseline[k]}
                stroke={RANKING_COLOURS[k]}
                strokeDasharray="6 4"
                strokeOpacity={0.8}
              />
            ))}
          {markers.map((m, i) => (
            <StableReferenceLine
              key={`marker-${m.step}-${i}`}
              x={m.step}
              stroke={CHART_REF}
              strokeDasharray="4 3"
              label={markerLabel(i)}
            />
          ))}
          {metrics.map((k) => (
            <Line
              key={k}
              dataKey={k}
              name={`validation ${RANKING_METRIC_LABELS[k]}`}
              stroke={RANKING_COLOURS[k]}
              strokeWidth={2}
              dot={{ r: 3 }}
              className={`ranking-line ranking-line-${k}`}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <LineLegend entries={legend} testId="ranking-legend" />
    </>
  );
});
