/**
 * A snapshot's per-field sizes (the run card's "sizes" view): the mean number of non-zero
 * dimensions of each field's features as the snapshot stores them, out of the run's d. Fields
 * are coloured by their role on the synthetic slice when the run's data summary is at hand.
 */
import { memo, useMemo } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { DatasetSummary } from '../../workers/protocol';
import { CHART_GRID, LINE_CHART_MARGIN, PLAIN_AXIS, seriesColor, TOOLTIP } from './chartProps';
import { FieldRoleSwatches } from './FieldRoleSwatches';
import { barsAreFields, ROLE_COLORS, roleOfField } from './fieldRoles';
import { niceTicks } from './niceTicks';
import { plainBar } from './plainBar';

const BAR = seriesColor('#2e7d32');
const formatSize = (v: unknown) => (typeof v === 'number' ? v.toFixed(2) : String(v));

export const SnapshotSizesChart = memo(function SnapshotSizesChart({
  testId,
  sizes,
  names,
  dim,
  dataset,
}: {
  testId: string;
  sizes: number[];
  names: string[];
  /** The run's embedding dimension d: the largest size a feature can keep. */
  dim: number;
  dataset: DatasetSummary | null;
}) {
  const roles = barsAreFields(dataset, names) && names.length === sizes.length;
  const data = useMemo(
    () =>
      sizes.map((size, f) => ({
        field: names[f] ?? String(f + 1),
        size,
        fill: roles && dataset ? ROLE_COLORS[roleOfField(dataset, f)] : BAR,
      })),
    [sizes, names, roles, dataset],
  );
  const ticks = useMemo(() => niceTicks(0, Math.max(1, dim), 5), [dim]);
  // About ten field names fit under the bars; more are thinned out.
  const interval = Math.max(0, Math.ceil(data.length / 10) - 1);
  return (
    <div data-testid={testId} data-points={data.length}>
      <ResponsiveContainer width="100%" height={180}>
        <BarChart data={data} margin={LINE_CHART_MARGIN}>
          <CartesianGrid {...CHART_GRID} vertical={false} />
          <XAxis {...PLAIN_AXIS} dataKey="field" interval={interval} />
          <YAxis
            {...PLAIN_AXIS}
            width={40}
            ticks={ticks}
            domain={[0, ticks[ticks.length - 1] ?? dim]}
          />
          <Tooltip {...TOOLTIP} formatter={formatSize} />
          <Bar
            dataKey="size"
            name="mean non-zero dims"
            isAnimationActive={false}
            shape={plainBar}
            fill={BAR}
          >
            {data.map((d, i) => (
              <Cell key={`${i}`} fill={d.fill} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
      {roles && (
        <p className="legend-note">
          <FieldRoleSwatches />
        </p>
      )}
    </div>
  );
});
