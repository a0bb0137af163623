import { formatCount } from '../format';
import { BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CHART_GRID, PLAIN_AXIS, seriesColor, TOOLTIP } from './chartProps';
import type { DatasetFieldInfo } from '../../workers/datasetProtocol';
import { plainBars } from './plainBar';
import { LineLegend } from './LineLegend';

const BEFORE = seriesColor('#b0b7c3');
const AFTER = seriesColor('#1f5fa8');

/** Per-field cardinality before and after min-count, on a log scale (sizes span 1 to millions). */
export function FieldCardinalityChart({
  fields,
  minCount,
}: {
  fields: DatasetFieldInfo[];
  minCount: number;
}) {
  const data = fields.map((f) => ({
    field: f.name,
    before: f.cardinalityBeforeMinCount,
    after: f.cardinalityAfterMinCount,
  }));
  const largest = Math.max(1, ...data.map((d) => d.before));
  const series = [
    { key: 'before', label: 'distinct values', color: BEFORE, box: true },
    { key: 'after', label: `field size after min-count ${minCount}`, color: AFTER, box: true },
  ];
  return (
    <div data-testid="dataset-cardinality-chart" data-fields={fields.length} data-largest={largest}>
      <LineLegend entries={series} />
      <ResponsiveContainer width="100%" height={198}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 8, left: 0 }} barGap={0}>
          <CartesianGrid {...CHART_GRID} />
          <XAxis
            stroke={PLAIN_AXIS.stroke}
            dataKey="field"
            interval={0}
            fontSize={10}
            angle={fields.length > 16 ? -60 : 0}
            textAnchor={fields.length > 16 ? 'end' : 'middle'}
            height={fields.length > 16 ? 50 : 24}
          />
          {/* Log scale: bars start at 1 (a field always has at least one value). */}
          <YAxis
            stroke={PLAIN_AXIS.stroke}
            scale="log"
            domain={[1, 'auto']}
            allowDataOverflow
            width={56}
            tickFormatter={(v: number) => formatCount(v)}
          />
          <Tooltip {...TOOLTIP} />
          {plainBars(series)}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
