/**
 * Finished runs of one task on model size against quality (test AUC for click-through runs, a
 * test ranking metric for next-item runs), with their Pareto front (no other run is both no
 * larger and no worse). The size axis is picked by the user: parameters, bytes, or FLOPs; it
 * turns logarithmic when the sizes span more than 10x. Clicking a point (or its button in the
 * list under the chart) opens its run.
 */
import { memo, useMemo, useState, type KeyboardEvent, type ReactNode } from 'react';
import {
  CartesianGrid,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from 'recharts';
import { paretoFront } from '../state/pareto';
import {
  paretoPointsOf,
  type CompareRun,
  type QualitySpec,
  type RunPoint as ComparePoint,
  type SizeAxis,
  type SizeAxisSpec,
} from '../state/compareRuns';
import { formatMetric } from '../format';
import { methodColor } from './methodColors';
import {
  CHART_GRID,
  CHART_INK,
  CHART_SURFACE,
  CHART_TEXT,
  LINE_CHART_MARGIN,
  PLAIN_AXIS,
  TOOLTIP,
} from './chartProps';
import { logTicks, niceTicks } from './niceTicks';

/** The front and the ring of the selected point: the page's text colour, in either theme. */
const FRONT_COLOR = CHART_INK;

interface RunPoint extends ComparePoint {
  /** Where the point's label goes: left of the point near the right edge, else right of it. */
  anchor: 'start' | 'end';
  onFront: boolean;
}

export interface ParetoChartProps {
  runs: CompareRun[];
  /** The size axes offered (the first is shown first). */
  axes: readonly SizeAxisSpec[];
  /** What the vertical axis shows. */
  quality: QualitySpec;
  selectedRunId: number | null;
  onOpen(runId: number): void;
}

export const ParetoChart = memo(function ParetoChart({
  runs,
  axes,
  quality,
  selectedRunId,
  onOpen,
}: ParetoChartProps) {
  const [axis, setAxis] = useState<SizeAxis>(axes[0].id);
  const spec = axes.find((a) => a.id === axis) ?? axes[0];
  const yLabel = useMemo(
    () => ({
      value: quality.label,
      angle: -90,
      position: 'insideLeft' as const,
      offset: 0,
      fontSize: 12,
      fill: CHART_TEXT,
    }),
    [quality.label],
  );
  const view = useMemo(() => {
    const all = paretoPointsOf(runs, spec.id);
    const { front, excluded } = paretoFront(all);
    const onFront = new Set(front.map((p) => p.id));
    const shown = all.filter((p) => Number.isFinite(p.auc) && Number.isFinite(p.size));
    const sizes = shown.map((p) => p.size);
    const aucs = shown.map((p) => p.auc);
    const lo = Math.min(...sizes);
    const hi = Math.max(...sizes);
    const log = lo > 0 && hi / lo > 10;
    const xTicks = log ? logTicks(lo, hi) : niceTicks(Math.min(0, lo), hi, 6);
    const yTicks = niceTicks(Math.min(...aucs) - 0.005, Math.max(...aucs) + 0.005, 5);
    // Position in [0, 1] along the x axis, to keep labels inside the plot.
    const x0 = xTicks[0] ?? lo;
    const x1 = xTicks.at(-1) ?? hi;
    const along = (v: number) =>
      log ? Math.log(v / x0) / Math.log(x1 / x0) : (v - x0) / Math.max(1e-12, x1 - x0);
    const points: RunPoint[] = shown.map((p) => ({
      ...p,
      anchor: along(p.size) > 0.6 ? 'end' : 'start',
      onFront: onFront.has(p.id),
    }));
    const methods = [...new Set(points.map((p) => p.methodId))];
    // The front in its order (by size), as the points drawn.
    const byId = new Map(points.map((p) => [p.id, p]));
    const frontPoints = front.flatMap((p) => byId.get(p.id) ?? []);
    // The staircase goes on at the best AUC to the right edge: no larger model did better.
    const last = frontPoints.at(-1);
    const frontLine =
      last && last.size < x1 ? [...frontPoints, { ...last, id: -1, size: x1 }] : frontPoints;
    return { points, frontPoints, frontLine, excluded, log, xTicks, yTicks, methods, front };
  }, [runs, spec]);

  const renderPoint = (props: unknown): ReactNode => {
    const { cx, cy, payload } = props as { cx?: number; cy?: number; payload?: RunPoint };
    if (cx === undefined || cy === undefined || !payload) return null;
    const selected = payload.id === selectedRunId;
    const open = () => onOpen(payload.id);
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        open();
      }
    };
    // Above the point, so that the front's horizontal steps (at the points' AUC) never cross it.
    const dx = payload.anchor === 'start' ? 4 : -4;
    return (
      <g className="pareto-point">
        <circle
          cx={cx}
          cy={cy}
          r={selected ? 7 : 5.5}
          fill={methodColor(payload.methodId)}
          stroke={selected ? FRONT_COLOR : CHART_SURFACE}
          strokeWidth={selected ? 2.5 : 1}
          data-testid={`pareto-point-${payload.id}`}
          data-on-front={payload.onFront}
          data-selected={selected}
          role="button"
          tabIndex={0}
          aria-label={`Open run #${payload.id}: ${payload.methodLabel}, ${spec.format(payload.size)} ${spec.label}, ${quality.label} ${formatMetric(payload.auc)}`}
          style={{ cursor: 'pointer' }}
          onClick={open}
          onKeyDown={onKey}
        />
        <text
          x={cx + dx}
          y={cy - 9}
          textAnchor={payload.anchor}
          fontSize={11}
          fontWeight={selected ? 600 : 400}
          fill={CHART_INK}
          pointerEvents="none"
        >
          {payload.methodLabel} #{payload.id}
        </text>
      </g>
    );
  };

  const x0 = view.xTicks[0];
  const x1 = view.xTicks.at(-1);
  const y0 = view.yTicks[0];
  const y1 = view.yTicks.at(-1);
  return (
    <section
      className="chart-card"
      data-testid="pareto-chart"
      data-points={view.points.length}
      data-front={view.front.map((p) => p.id).join(',')}
      data-excluded={view.excluded}
      data-axis={spec.id}
      data-quality={quality.label}
      data-scale={view.log ? 'log' : 'linear'}
    >
      <h3>
        Size against quality{' '}
        <small>
          {quality.label} of each finished run against its size; the Pareto front links the runs
          that no other run beats on both (smaller and better)
        </small>
      </h3>
      <div className="chart-controls">
        <label>
          size axis{' '}
          <select
            data-testid="pareto-axis"
            value={spec.id}
            onChange={(e) => setAxis(e.target.value as SizeAxis)}
          >
            {axes.map((a) => (
              <option key={a.id} value={a.id}>
                {a.label}
              </option>
            ))}
          </select>
          {view.log ? ' (log scale: the sizes span more than 10x)' : ''}
        </label>
        <span className="chart-legend" data-testid="pareto-legend">
          {view.methods.map((m) => (
            <span key={m}>
              <span className="dot" style={{ background: methodColor(m) }} />
              {view.points.find((p) => p.methodId === m)?.methodLabel}
            </span>
          ))}
          <span>
            <span className="dash" /> Pareto front ({view.frontPoints.length} run
            {view.frontPoints.length === 1 ? '' : 's'})
          </span>
        </span>
        {view.excluded > 0 && (
          <span className="muted" data-testid="pareto-excluded">
            {view.excluded} run{view.excluded > 1 ? 's' : ''} without a {quality.label} or a size
            not shown
          </span>
        )}
      </div>
      {view.points.length === 0 ? (
        <div className="chart-empty">No finished run has a {quality.label} yet.</div>
      ) : (
        <ResponsiveContainer width="100%" height={300}>
          <ScatterChart margin={{ ...LINE_CHART_MARGIN, top: 16, left: 8, bottom: 20, right: 24 }}>
            <CartesianGrid {...CHART_GRID} />
            <XAxis
              {...PLAIN_AXIS}
              dataKey="size"
              type="number"
              name={spec.label}
              scale={view.log ? 'log' : 'linear'}
              domain={x0 !== undefined && x1 !== undefined ? [x0, x1] : ['auto', 'auto']}
              ticks={view.xTicks}
              allowDataOverflow
              tickFormatter={spec.format}
              label={{
                value: spec.title,
                position: 'bottom',
                offset: 4,
                fontSize: 12,
                fill: CHART_TEXT,
              }}
            />
            <YAxis
              {...PLAIN_AXIS}
              dataKey="auc"
              type="number"
              name={quality.label}
              domain={y0 !== undefined && y1 !== undefined ? [y0, y1] : ['auto', 'auto']}
              ticks={view.yTicks}
              allowDataOverflow
              width={72}
              tickFormatter={(v: number) => v.toFixed(3)}
              label={yLabel}
            />
            <Tooltip
              {...TOOLTIP}
              cursor={false}
              content={(props: TooltipContentProps) => (
                <ParetoTooltip {...props} quality={quality.label} />
              )}
            />
            <Scatter
              name={`Pareto front (${view.frontPoints.length} run${view.frontPoints.length === 1 ? '' : 's'})`}
              data={view.frontLine}
              fill={FRONT_COLOR}
              legendType="line"
              line={renderFrontLine}
              shape={renderNothing}
              tooltipType="none"
              isAnimationActive={false}
            />
            {view.methods.map((methodId) => {
              const data = view.points.filter((p) => p.methodId === methodId);
              return (
                <Scatter
                  key={methodId}
                  name={data[0].methodLabel}
                  data={data}
                  fill={methodColor(methodId)}
                  shape={renderPoint}
                  isAnimationActive={false}
                />
              );
            })}
          </ScatterChart>
        </ResponsiveContainer>
      )}
      <ParetoList
        points={view.points}
        spec={spec}
        quality={quality.label}
        selectedRunId={selectedRunId}
        onOpen={onOpen}
      />
    </section>
  );
});

const renderNothing = (): ReactNode => null;

/**
 * The front as a staircase through its points (sorted by size): from each point, right at its
 * AUC to the next point's size, then up to the next point's AUC; the best AUC reachable within
 * each size budget. The last point's step runs on to the right edge of the plot.
 */
function renderFrontLine(props: unknown) {
  const { points } = props as { points?: { x: number | null; y: number | null }[] };
  const xy = (points ?? []).filter(
    (p): p is { x: number; y: number } => p.x !== null && p.y !== null,
  );
  let d = '';
  xy.forEach((p, i) => {
    d += i === 0 ? `M${p.x},${p.y}` : `H${p.x}V${p.y}`;
  });
  return (
    <path
      d={d}
      fill="none"
      stroke={FRONT_COLOR}
      strokeWidth={2}
      strokeDasharray="6 3"
      data-testid="pareto-front-line"
      data-points={xy.length}
    />
  );
}

function ParetoTooltip({ active, payload, quality }: TooltipContentProps & { quality: string }) {
  const point = active ? (payload?.[0]?.payload as RunPoint | undefined) : undefined;
  if (!point) return null;
  return (
    <div className="chart-tooltip">
      <strong>
        Run #{point.id}: {point.methodLabel}
      </strong>
      <div>
        {quality} {formatMetric(point.auc)}
      </div>
      <div>{point.onFront ? 'on the Pareto front' : 'dominated by a smaller, better run'}</div>
      <div className="muted">click to open</div>
    </div>
  );
}

/** The points as a list too: readable without the chart, and each opens its run. */
function ParetoList({
  points,
  spec,
  quality,
  selectedRunId,
  onOpen,
}: {
  points: RunPoint[];
  spec: SizeAxisSpec;
  quality: string;
  selectedRunId: number | null;
  onOpen(runId: number): void;
}) {
  const sorted = [...points].sort((a, b) => a.size - b.size || b.auc - a.auc);
  return (
    <table className="metrics pareto-list" data-testid="pareto-list">
      <thead>
        <tr>
          <th>run</th>
          <th>method</th>
          <th>{spec.label}</th>
          <th>{quality}</th>
          <th>Pareto front</th>
        </tr>
      </thead>
      <tbody>
        {sorted.map((p) => (
          <tr key={p.id} className={p.id === selectedRunId ? 'selected' : undefined}>
            <td>
              <button
                type="button"
                className="link-button"
                data-testid={`pareto-open-${p.id}`}
                aria-label={`Open run #${p.id}`}
                onClick={() => onOpen(p.id)}
              >
                #{p.id}
              </button>
            </td>
            <td>
              <span className="swatch" style={{ background: methodColor(p.methodId) }} />{' '}
              {p.methodLabel}
            </td>
            <td>{spec.format(p.size)}</td>
            <td>{formatMetric(p.auc)}</td>
            <td>{p.onFront ? 'yes' : 'dominated'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
