import { memo, useMemo } from 'react';
import {
  BarChart,
  CartesianGrid,
  LabelList,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { SeqTiming } from '../../workers/sequence/seqProtocol';
import {
  CHART_GRID,
  CHART_TEXT,
  LINE_CHART_MARGIN,
  PLAIN_AXIS,
  seriesColor,
  TOOLTIP,
} from './chartProps';
import { niceTicks } from './niceTicks';
import { plainBars } from './plainBar';
import { LineLegend } from './LineLegend';

const MODEL = seriesColor('#1f5fa8');
const UNCOMPRESSED = seriesColor('#9aa5b1');

const Y_LABEL = {
  value: 'milliseconds',
  angle: -90,
  position: 'insideLeft' as const,
  offset: 0,
  fontSize: 12,
  fill: CHART_TEXT,
};
const formatMs = (v: unknown) => (typeof v === 'number' ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : '');

export interface SeqTimingChartProps {
  modelLabel: string;
  timing: SeqTiming;
  uncompressed: SeqTiming;
}

/**
 * This model against the uncompressed NextItNet timed on the same backend and batches: the
 * median training step and the time to score 1,000 sequences over every item.
 */
export const SeqTimingChart = memo(function SeqTimingChart({
  modelLabel,
  timing,
  uncompressed,
}: SeqTimingChartProps) {
  const data = useMemo(
    () => [
      {
        what: 'training step',
        model: timing.msPerStep,
        uncompressed: uncompressed.msPerStep,
      },
      {
        what: 'scoring 1,000 sequences',
        model: timing.inferenceMsPer1000,
        uncompressed: uncompressed.inferenceMsPer1000,
      },
    ],
    [timing, uncompressed],
  );
  const ticks = useMemo(() => {
    let hi = 0;
    for (const row of data) hi = Math.max(hi, row.model, row.uncompressed);
    return niceTicks(0, hi > 0 ? hi * 1.1 : 1, 5);
  }, [data]);
  const series = useMemo(
    () => [
      { key: 'model', label: modelLabel, color: MODEL, box: true },
      { key: 'uncompressed', label: 'NextItNet (uncompressed)', color: UNCOMPRESSED, box: true },
    ],
    [modelLabel],
  );
  return (
    <>
      <LineLegend entries={series} />
      <ResponsiveContainer width="100%" height={196}>
        <BarChart data={data} margin={{ ...LINE_CHART_MARGIN, top: 16, left: 8 }}>
          <CartesianGrid {...CHART_GRID} vertical={false} />
          <XAxis {...PLAIN_AXIS} dataKey="what" />
          <YAxis
            {...PLAIN_AXIS}
            domain={[0, ticks.at(-1) ?? 'auto']}
            ticks={ticks}
            width={72}
            label={Y_LABEL}
          />
          <Tooltip {...TOOLTIP} formatter={formatMs} />
          {plainBars(series, (key) => (
            <LabelList
              dataKey={key}
              position="top"
              formatter={formatMs}
              fontSize={11}
              fill={CHART_TEXT}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </>
  );
});
