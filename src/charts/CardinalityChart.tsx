import { formatCount } from '../format';
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
import { CHART_GRID, PLAIN_AXIS, TOOLTIP } from './chartProps';
import type { DatasetSummary } from '../../workers/protocol';

import { ROLE_COLORS, roleOfField } from './fieldRoles';
import { plainBar } from './plainBar';

/** Field cardinalities on a log scale, coloured by the role the generator gave each field. */
export function CardinalityChart({ summary }: { summary: DatasetSummary }) {
  const redundant = new Map(summary.redundantFields.map((r) => [r.field, r.copyOf]));
  const data = summary.fieldCardinalities.map((card, f) => {
    const role = roleOfField(summary, f);
    return {
      field: `F${f + 1}`,
      card,
      role,
      note: redundant.has(f) ? `copy of F${(redundant.get(f) ?? 0) + 1}` : role,
    };
  });
  // One tick per power of ten: a log axis' automatic ticks crowd into each other.
  const largest = Math.max(10, ...summary.fieldCardinalities);
  const decadeTicks: number[] = [];
  for (let t = 10; t < largest * 10; t *= 10) decadeTicks.push(t);
  return (
    <ResponsiveContainer width="100%" height={180}>
      <BarChart data={data} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
        <CartesianGrid {...CHART_GRID} />
        <XAxis dataKey="field" {...PLAIN_AXIS} fontSize={11} />
        <YAxis
          {...PLAIN_AXIS}
          scale="log"
          domain={[10, decadeTicks.at(-1) ?? 'auto']}
          ticks={decadeTicks}
          allowDataOverflow
          width={56}
          tickFormatter={(v: number) => formatCount(v)}
        />
        <Tooltip
          {...TOOLTIP}
          formatter={(v, _n, item) => [
            `${String(v)} values (${(item.payload as { note: string }).note})`,
            'cardinality',
          ]}
        />
        <Bar dataKey="card" isAnimationActive={false} shape={plainBar}>
          {data.map((d) => (
            <Cell key={d.field} fill={ROLE_COLORS[d.role as keyof typeof ROLE_COLORS]} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}
