/**
 * The charts of a compression method, drawn from what its spec declares (workers/methods/<id>/
 * spec.ts): lines over steps (step series and evaluation series, with the run's markers), bars
 * (a vector per field, layer or bucket; fields coloured by their role on the synthetic slice) and
 * histograms. A method adds a series in its own folder; nothing here changes.
 */
import { memo, useMemo } from 'react';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  Line,
  LineChart,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { StableReferenceLine } from './stableReference';
import type { ChartSpec, MethodSpec, SeriesSpec } from '../../workers/methods/methodSpec';
import type { DatasetSummary, EvaluationMetrics } from '../../workers/protocol';
import type { LabState, MethodHistogram, MethodVector, RunView } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { methodSpecOf } from '../methods/catalog';
import {
  AUTO_DOMAIN,
  CHART_GRID,
  CHART_REF,
  formatTooltipValue,
  LINE_CHART_MARGIN,
  markerLabel,
  PLAIN_AXIS,
  seriesColor,
  TOOLTIP,
  ZERO_TO_AUTO,
} from './chartProps';
import { MountWhenIdle } from '../components/MountWhenIdle';
import { useRedrawTurn } from './useRedrawTurn';
import { methodChartInputs } from './methodChartInputs';
import { LineLegend } from './LineLegend';
import { plainBar } from './plainBar';
import { FieldRoleSwatches } from './FieldRoleSwatches';
import { barsAreFields, ROLE_COLORS, roleOfField, type FieldRole } from './fieldRoles';
import { formatAxisTick as formatTick, niceTicks } from './niceTicks';

const selectRun = (s: LabState) => s.run;
const selectFormMethod = (s: LabState) => s.form['method.id'];

const DATA_EXTENT: [string, string] = ['dataMin', 'dataMax'];
// Room on the right for the last bar's label, centred under it (a range such as 2048–4095).
const BAR_CHART_MARGIN = { ...LINE_CHART_MARGIN, right: 32 };

/** At most this many markers are drawn (the latest): more would bury the lines. */
const MAX_MARKERS = 12;

/**
 * Every k-th category label: about 10 show, fewer when the labels are long (about 6.5 px a
 * character on a plot about 380 px wide; counted, never measured in the DOM).
 */
const labelInterval = (labels: string[]) => {
  const longest = labels.reduce((a, l) => Math.max(a, l.length), 1);
  const fit = Math.max(1, Math.floor(380 / (6.5 * longest + 8)));
  return Math.max(0, Math.ceil(labels.length / Math.min(10, fit)) - 1);
};

export function MethodCharts() {
  const run = useDeferredLabStore(selectRun);
  const formMethod = useDeferredLabStore(selectFormMethod);
  const spec = methodSpecOf(run.config?.method.id ?? formMethod);
  if (!spec || spec.charts.length === 0) return null;
  return (
    <section className="method-charts" data-testid="method-charts" data-method={spec.id}>
      <h2>
        {spec.label}
        {run.phases.length > 1 && (
          <small data-testid="method-phase">
            {' '}
            · phase {run.phases.at(-1)!.index + 1} of {run.phases.at(-1)!.count}:{' '}
            {run.phases.at(-1)!.label}
          </small>
        )}
      </h2>
      <div className="chart-grid">
        {spec.charts.map((chart) => (
          <MethodChart key={chart.id} spec={spec} chart={chart} run={run} />
        ))}
      </div>
    </section>
  );
}

/** What an empty chart says: the run is still to draw it, or it is not part of this run. */
function emptyText(run: RunView, series: SeriesSpec[]): string {
  if (run.state !== 'done' && run.state !== 'failed') {
    return 'No data yet: it arrives as the run trains.';
  }
  const when = series.find((s) => s.onlyWhen)?.onlyWhen;
  return when ? `Not drawn in this run: only when ${when}.` : 'Not drawn in this run.';
}

const NO_HISTOGRAM: MethodHistogram = { step: 0, edges: [], counts: [] };
const NO_VECTOR: MethodVector = { step: 0, values: [], labels: [] };

function MethodChart({ spec, chart, run }: { spec: MethodSpec; chart: ChartSpec; run: RunView }) {
  const series = useMemo(() => spec.series.filter((s) => s.chart === chart.id), [spec, chart.id]);
  // The run's fields this chart draws (methodChartInputs.ts). They change identity only with
  // new data, and the chart redraws them in its turn (useRedrawTurn): never in the same task as
  // another chart.
  const { lines, evaluations, markers, allVectors, dataset, allPoints, histograms } =
    methodChartInputs(chart, series, run);
  const shown = useRedrawTurn(
    useMemo(
      () => ({ lines, evaluations, markers, allVectors, dataset, allPoints, histograms }),
      [lines, evaluations, markers, allVectors, dataset, allPoints, histograms],
    ),
    chart.id,
  );
  // Several vector series in one chart are stacked (e.g. kept and dropped, which add up).
  const { present, vectors } = useMemo(() => {
    const withData = series.filter((s) => shown.allVectors[s.id]);
    return { present: withData, vectors: withData.map((s) => shown.allVectors[s.id]!) };
  }, [series, shown.allVectors]);
  let body: React.ReactNode;
  let points: number;
  if (chart.type === 'line') {
    body = (
      <LineSeriesChart
        chart={chart}
        series={series}
        lines={shown.lines}
        evaluations={shown.evaluations}
        markers={shown.markers}
      />
    );
    points = series.reduce(
      (a, s) =>
        a +
        (s.kind === 'step'
          ? (shown.lines[s.id]?.length ?? 0)
          : shown.evaluations.filter((e) => s.id in e.method).length),
      0,
    );
  } else if (chart.type === 'bars') {
    points = vectors[0]?.values.length ?? 0;
    body = <VectorChart chart={chart} series={present} vectors={vectors} dataset={shown.dataset} />;
  } else if (chart.type === 'scatter') {
    points = series.reduce((a, s) => a + (shown.allPoints[s.id]?.length ?? 0), 0);
    body = <PointsChart chart={chart} series={series} points={shown.allPoints} />;
  } else {
    const histogram = series.map((s) => shown.histograms[s.id]).find(Boolean) ?? NO_HISTOGRAM;
    points = histogram.counts.length;
    body = <HistogramChart chart={chart} series={series[0]} histogram={histogram} />;
  }
  return (
    <section className="chart-card" data-testid={`method-chart-${chart.id}`} data-points={points}>
      <h3>
        {chart.title} <small>{chart.help}</small>
      </h3>
      <MountWhenIdle height={220} label={chart.id}>
        {/* Mounted while it has no data yet, hidden under the text that says why: the first
            data is then a redraw of the chart, not its first mount (recharts builds its store
            and every part of the SVG then, about twice a redraw's main-thread time, in the
            middle of the run). */}
        <div className="chart-body">
          <div className={points > 0 ? undefined : 'chart-hidden'}>{body}</div>
          {points === 0 && (
            <div className="chart-empty chart-empty-over">{emptyText(run, series)}</div>
          )}
        </div>
      </MountWhenIdle>
    </section>
  );
}

interface LineProps {
  chart: ChartSpec;
  series: SeriesSpec[];
  lines: RunView['methodLines'];
  evaluations: EvaluationMetrics[];
  markers: RunView['markers'];
}

const LineSeriesChart = memo(function LineSeriesChart({
  chart,
  series,
  lines,
  evaluations,
  markers,
}: LineProps) {
  const data = useMemo(() => {
    const byStep = new Map<number, Record<string, number>>();
    const at = (step: number) => {
      let row = byStep.get(step);
      if (!row) byStep.set(step, (row = { step }));
      return row;
    };
    for (const s of series) {
      if (s.kind === 'step') for (const p of lines[s.id] ?? []) at(p.step)[s.id] = p.value;
      else for (const e of evaluations) if (s.id in e.method) at(e.step)[s.id] = e.method[s.id];
    }
    return [...byStep.values()].sort((a, b) => a.step - b.step);
  }, [series, lines, evaluations]);
  // A log axis gets one tick per power of ten over the data (recharts' own crowd together).
  const logAxis = useMemo(() => {
    if (chart.yScale !== 'log') return null;
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of data) {
      for (const s of series) {
        const v = row[s.id];
        if (v > 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!Number.isFinite(lo)) return null;
    const from = Math.floor(Math.log10(lo));
    const to = Math.ceil(Math.log10(hi));
    const every = Math.max(1, Math.ceil((to - from) / 6));
    const ticks: number[] = [];
    for (let e = from; e <= to; e += every) ticks.push(10 ** e);
    return { domain: [10 ** from, 10 ** to] as [number, number], ticks };
  }, [chart.yScale, data, series]);
  // Round step ticks over the data (recharts' own ended in a tick at the last step, printed over
  // the round one before it).
  const stepAxis = useMemo(() => {
    if (data.length === 0) return null;
    const ticks = niceTicks(data[0].step, data[data.length - 1].step, 6);
    return { ticks, domain: [ticks[0], ticks[ticks.length - 1]] as [number, number] };
  }, [data]);
  // The markers within the steps this chart covers (a phase's chart does not list later phases').
  const shown = useMemo(() => {
    if (data.length === 0) return [];
    const first = data[0].step;
    const last = data[data.length - 1].step;
    return markers.filter((m) => m.step >= first && m.step <= last).slice(-MAX_MARKERS);
  }, [markers, data]);
  // Series without a point in this run (a layer the model does not have, the other solver's)
  // stay out of the legend.
  const drawn = series.filter((s) =>
    s.kind === 'step' ? (lines[s.id]?.length ?? 0) > 0 : evaluations.some((e) => s.id in e.method),
  );
  const legend = drawn.map((s) => ({
    key: s.id,
    label: s.axis === 'right' && chart.rightLabel ? `${s.label} (right)` : s.label,
    color: seriesColor(s.color),
    dashed: s.dashed,
  }));
  return (
    <>
      <ResponsiveContainer width="100%" height={196}>
        <LineChart data={data} margin={LINE_CHART_MARGIN}>
          <CartesianGrid {...CHART_GRID} />
          <XAxis
            {...PLAIN_AXIS}
            dataKey="step"
            type="number"
            domain={stepAxis?.domain ?? DATA_EXTENT}
            ticks={stepAxis?.ticks}
            tickFormatter={formatTick}
          />
          <YAxis
            {...PLAIN_AXIS}
            yAxisId="left"
            width={56}
            scale={logAxis ? 'log' : 'auto'}
            domain={logAxis ? logAxis.domain : ZERO_TO_AUTO}
            ticks={logAxis?.ticks}
            allowDataOverflow={logAxis !== null}
            tickFormatter={formatTick}
          />
          {series.some((s) => s.axis === 'right') && (
            <YAxis
              {...PLAIN_AXIS}
              yAxisId="right"
              orientation="right"
              width={56}
              domain={ZERO_TO_AUTO}
              tickFormatter={formatTick}
            />
          )}
          <Tooltip {...TOOLTIP} formatter={formatTooltipValue} />
          {shown.map((m, i) => (
            <StableReferenceLine
              key={`${m.step}-${i}`}
              yAxisId="left"
              x={m.step}
              stroke={CHART_REF}
              strokeDasharray="4 3"
              // A number on the line; the marker's text is listed under the chart (long labels on
              // the plot overwrite each other and the lines).
              label={markerLabel(i, i % 2)}
            />
          ))}
          {drawn.map((s) => (
            <Line
              key={s.id}
              yAxisId={s.axis ?? 'left'}
              dataKey={s.id}
              name={s.axis === 'right' && chart.rightLabel ? `${s.label} (right)` : s.label}
              stroke={seriesColor(s.color)}
              strokeWidth={s.dashed ? 1.5 : 2}
              strokeDasharray={s.dashed ? '5 3' : undefined}
              dot={s.kind === 'evaluation'}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <LineLegend entries={legend} />
      {shown.length > 0 && (
        <ol className="chart-markers">
          {shown.map((m, i) => (
            <li key={`${m.step}-${i}`}>
              <b>{i + 1}</b> step {m.step.toLocaleString('en-US')}: {m.label}
            </li>
          ))}
        </ol>
      )}
    </>
  );
});

const VectorChart = memo(function VectorChart({
  chart,
  series,
  vectors,
  dataset,
}: {
  chart: ChartSpec;
  /** One or more series, stacked; the first one takes the field-role colours. */
  series: SeriesSpec[];
  vectors: MethodVector[];
  dataset: DatasetSummary | null;
}) {
  const vector = vectors[0] ?? NO_VECTOR;
  const data = useMemo(() => {
    // The generator's roles colour the bars when they are the synthetic slice's fields.
    const fields =
      barsAreFields(dataset, vector.labels) && vector.labels.length === vector.values.length;
    return vector.values.map((value, i) => {
      const row: Record<string, number | string | null> = {
        label: vector.labels[i] ?? String(i),
        role: fields && dataset ? roleOfField(dataset, i) : null,
      };
      vectors.forEach((v, k) => (row[`v${k}`] = v.values[i] ?? 0));
      row.value = value;
      return row as { label: string; role: FieldRole | null; value: number };
    });
  }, [vector, vectors, dataset]);
  const hasRoles = data.some((d) => d.role !== null);
  const yTicks = useMemo(() => {
    let top = 0;
    for (const row of data) {
      let sum = 0;
      vectors.forEach(
        (_, k) => (sum += Math.max(0, Number(row[`v${k}` as keyof typeof row]) || 0)),
      );
      top = Math.max(top, sum);
    }
    if (!(top > 0)) return undefined;
    const ticks = niceTicks(0, top, 5);
    return { ticks, domain: [0, ticks[ticks.length - 1]] as [number, number] };
  }, [data, vectors]);
  return (
    <>
      <ResponsiveContainer width="100%" height={hasRoles ? 200 : 220}>
        <BarChart data={data} margin={BAR_CHART_MARGIN}>
          <CartesianGrid {...CHART_GRID} vertical={false} />
          <XAxis
            {...PLAIN_AXIS}
            dataKey="label"
            interval={labelInterval(data.map((d) => d.label))}
          />
          <YAxis
            {...PLAIN_AXIS}
            width={56}
            ticks={yTicks?.ticks}
            domain={yTicks?.domain ?? ZERO_TO_AUTO}
            tickFormatter={formatTick}
          />
          <Tooltip {...TOOLTIP} formatter={formatTooltipValue} />
          {series.map((s, k) => (
            <Bar
              key={s.id}
              dataKey={`v${k}`}
              stackId="stack"
              name={`${s.label} (${chart.yLabel})`}
              isAnimationActive={false}
              fill={seriesColor(s.color)}
              shape={plainBar}
            >
              {k === 0 &&
                data.map((d) => (
                  <Cell key={d.label} fill={d.role ? ROLE_COLORS[d.role] : seriesColor(s.color)} />
                ))}
              {/* A later series (dropped) of a field with a role: pale, outlined in the role's
                  colour, so that a dropped field never looks like a kept noise field. */}
              {k > 0 &&
                hasRoles &&
                data.map((d) => (
                  <Cell
                    key={d.label}
                    fill={seriesColor(s.color)}
                    fillOpacity={d.role ? 0.25 : 1}
                    stroke={d.role ? ROLE_COLORS[d.role] : undefined}
                    strokeDasharray={d.role ? '4 2' : undefined}
                  />
                ))}
            </Bar>
          ))}
        </BarChart>
      </ResponsiveContainer>
      {hasRoles && (
        <p className="legend-note">
          <FieldRoleSwatches />
          {series.length > 1 ? ` · pale, dashed: ${series[1].label}` : ''} · step {vector.step}
        </p>
      )}
    </>
  );
});

const HistogramChart = memo(function HistogramChart({
  chart,
  series,
  histogram,
}: {
  chart: ChartSpec;
  series: SeriesSpec;
  histogram: MethodHistogram;
}) {
  const data = useMemo(
    () =>
      histogram.counts.map((count, i) => ({
        // Unit bins of whole numbers (sizes 0, 1, 2...) are labelled by their value.
        bin:
          histogram.edges[i + 1] - histogram.edges[i] === 1 && Number.isInteger(histogram.edges[i])
            ? String(histogram.edges[i])
            : ((histogram.edges[i] + histogram.edges[i + 1]) / 2).toFixed(1),
        count,
      })),
    [histogram],
  );
  return (
    <ResponsiveContainer width="100%" height={220}>
      <BarChart data={data} margin={LINE_CHART_MARGIN} barCategoryGap={0}>
        <CartesianGrid {...CHART_GRID} vertical={false} />
        <XAxis {...PLAIN_AXIS} dataKey="bin" interval={labelInterval(data.map((d) => d.bin))} />
        <YAxis {...PLAIN_AXIS} width={56} tickFormatter={formatTick} />
        <Tooltip {...TOOLTIP} formatter={formatTooltipValue} />
        <Bar
          dataKey="count"
          name={`${series.label} per bin of ${chart.xLabel}`}
          fill={seriesColor(series.color)}
          isAnimationActive={false}
          shape={plainBar}
        />
      </BarChart>
    </ResponsiveContainer>
  );
});

const PointsChart = memo(function PointsChart({
  chart,
  series,
  points,
}: {
  chart: ChartSpec;
  series: SeriesSpec[];
  points: RunView['methodPoints'];
}) {
  return (
    <>
      <ResponsiveContainer width="100%" height={196}>
        <ScatterChart margin={LINE_CHART_MARGIN}>
          <CartesianGrid {...CHART_GRID} />
          <XAxis
            {...PLAIN_AXIS}
            dataKey="x"
            type="number"
            name={chart.xLabel}
            scale={chart.xScale === 'log' ? 'log' : 'auto'}
            // Counts and ratios: from zero (a single point then sits on a readable axis).
            domain={chart.xScale === 'log' ? AUTO_DOMAIN : ZERO_TO_AUTO}
            tickFormatter={formatTick}
          />
          <YAxis
            {...PLAIN_AXIS}
            dataKey="y"
            type="number"
            name={chart.yLabel}
            width={56}
            domain={AUTO_DOMAIN}
            tickFormatter={formatTick}
          />
          <Tooltip {...TOOLTIP} formatter={formatTooltipValue} />
          {/* A dashed points series is a reference: a horizontal line at its first point's y. */}
          {series
            .filter((s) => s.dashed && points[s.id]?.length)
            .map((s) => (
              <StableReferenceLine
                key={`ref-${s.id}`}
                y={points[s.id][0].y}
                stroke={seriesColor(s.color)}
                strokeDasharray="5 3"
                label={{
                  value: `${s.label} ${points[s.id][0].y.toFixed(4)}`,
                  position: 'insideTopRight',
                  fontSize: 11,
                  fill: seriesColor(s.color),
                }}
              />
            ))}
          {series.map((s) => (
            <Scatter
              key={s.id}
              name={s.label}
              data={points[s.id] ?? []}
              fill={seriesColor(s.color)}
              line={s.dashed ? false : { stroke: seriesColor(s.color) }}
              isAnimationActive={false}
            />
          ))}
        </ScatterChart>
      </ResponsiveContainer>
      <LineLegend
        entries={series.map((s) => ({
          key: s.id,
          label: s.label,
          color: seriesColor(s.color),
          dashed: s.dashed,
          dot: !s.dashed,
        }))}
      />
    </>
  );
});
