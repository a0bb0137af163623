import { memo, useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SeqParamCounts } from '../../workers/sequence/seqProtocol';
import { formatCount } from '../format';
import { CHART_GRID, CHART_TEXT, PLAIN_AXIS, seriesColor, TOOLTIP } from './chartProps';
import { niceTicks } from './niceTicks';
import { plainBar } from './plainBar';
import { LineLegend, type LegendEntry } from './LineLegend';

/** One colour per part of NextItNet, the same in every sequence chart. */
export const SEQ_PART_COLOURS = {
  input: seriesColor('#1f5fa8'),
  middle: seriesColor('#c2571a'),
  softmax: seriesColor('#2e7d32'),
} as const;

const PARTS = [
  { key: 'input', label: 'input (item embeddings)' },
  { key: 'middle', label: 'middle (dilated conv blocks)' },
  { key: 'softmax', label: 'softmax (output layer)' },
] as const;

const LEGEND: LegendEntry[] = PARTS.map((p) => ({
  key: p.key,
  label: p.label,
  color: SEQ_PART_COLOURS[p.key],
  box: true,
}));

const X_LABEL = {
  value: 'parameters (count)',
  position: 'bottom' as const,
  offset: 0,
  fontSize: 12,
  fill: CHART_TEXT,
};
const formatParams = (v: unknown) =>
  typeof v === 'number' ? `${v.toLocaleString('en-US')} parameters` : String(v);

export interface SeqParamChartProps {
  /** The model Train would build, named (e.g. "CpRec"). */
  modelLabel: string;
  params: SeqParamCounts;
  /** The uncompressed NextItNet over the same items; null when the model is that one. */
  uncompressed: SeqParamCounts | null;
}

/**
 * Parameters by part as horizontal stacked bars on one scale: the configured model above the
 * uncompressed NextItNet, so CpRec's saving reads as the difference in length.
 */
export const SeqParamChart = memo(function SeqParamChart({
  modelLabel,
  params,
  uncompressed,
}: SeqParamChartProps) {
  const data = useMemo(() => {
    const rows = [{ model: modelLabel, ...params }];
    if (uncompressed) rows.push({ model: 'NextItNet (uncompressed)', ...uncompressed });
    return rows;
  }, [modelLabel, params, uncompressed]);
  const ticks = useMemo(
    () => niceTicks(0, Math.max(params.total, uncompressed?.total ?? 0), 5),
    [params, uncompressed],
  );
  return (
    <>
      <LineLegend entries={LEGEND} />
      <ResponsiveContainer width="100%" height={uncompressed ? 126 : 86}>
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 16, left: 8 }}>
          <CartesianGrid {...CHART_GRID} horizontal={false} />
          <XAxis
            {...PLAIN_AXIS}
            type="number"
            domain={[0, ticks.at(-1) ?? 'auto']}
            ticks={ticks}
            tickFormatter={formatCount}
            label={X_LABEL}
          />
          <YAxis {...PLAIN_AXIS} type="category" dataKey="model" width={184} />
          <Tooltip {...TOOLTIP} formatter={formatParams} />
          {PARTS.map((p) => (
            <Bar
              key={p.key}
              dataKey={p.key}
              name={p.label}
              stackId="parts"
              fill={SEQ_PART_COLOURS[p.key]}
              isAnimationActive={false}
              shape={plainBar}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </>
  );
});
