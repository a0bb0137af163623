import { useMemo } from 'react';
import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { StableReferenceDot, StableReferenceLine } from './stableReference';
import type { EvaluationMetrics } from '../../workers/protocol';
import {
  AUTO_DOMAIN,
  CHART_GRID,
  CHART_TEXT,
  formatTooltipValue,
  LINE_CHART_MARGIN,
  PLAIN_AXIS,
  seriesColor,
  TOOLTIP,
} from './chartProps';
import type { LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { formatMetric } from '../format';
import { useRedrawTurn } from './useRedrawTurn';
import { LineLegend, type LegendEntry } from './LineLegend';

/**
 * Validation AUC and logloss at each evaluation (per epoch, or every K steps), the best
 * evaluation so far (the weights the run keeps), the Bayes AUC the generator implies as a
 * ceiling, and, when asked for, the test AUC at each evaluation for comparison with papers.
 */
const selectEvaluations = (s: LabState) => s.run.evaluations;
// Known before the run from the preview, so the reference line is drawn before the first epoch.
const selectBayesAuc = (s: LabState) =>
  s.form['source'] === 'synthetic'
    ? (s.run.dataset?.bayesTestAuc ?? s.dataPreview?.bayesTestAuc ?? null)
    : null;

// Module-level props keep their identity between updates (recharts re-registers a chart part,
// and recomputes the whole chart, when its props change).
const AUC_TICKS = [0.5, 0.6, 0.7, 0.8, 0.9, 1];
const AUC_DOMAIN: [number, number] = [0.5, 1];
const EPOCH_LABEL = {
  value: 'epoch',
  position: 'insideBottomRight' as const,
  offset: -4,
  fontSize: 12,
  fill: CHART_TEXT,
};
const STEP_LABEL = { ...EPOCH_LABEL, value: 'step' };
const ZERO_TO_DATA_MAX: [number, string] = [0, 'dataMax'];
const formatTwoDecimals = (v: number) => v.toFixed(2);
const BLUE = seriesColor('#1f5fa8');
const GREEN = seriesColor('#2e7d32');
const ORANGE = seriesColor('#c2571a');
const GREY = seriesColor('#7b8794');
const PURPLE = seriesColor('#6a3d9a');
const BAYES_LABEL = {
  value: 'Bayes AUC',
  position: 'insideTopRight' as const,
  fill: GREEN,
  fontSize: 12,
};
const KEPT_LABEL = { value: 'kept', position: 'top' as const, fontSize: 11, fill: BLUE };

export function ValidationChart() {
  const evaluations = useDeferredLabStore(selectEvaluations);
  const bayes = useDeferredLabStore(selectBayesAuc);
  const view = useRedrawTurn(
    useMemo(() => ({ evaluations, bayes }), [evaluations, bayes]),
    'validation',
  );
  return <ValidationChartView testId="auc-chart" {...view} />;
}

export interface ValidationChartViewProps {
  /** data-testid of the card (none for the warm-up copy, see ChartWarmup). */
  testId?: string;
  evaluations: EvaluationMetrics[];
  bayes: number | null;
}

/** A retrain run while the run was paused: its own line, keyed by phase and pause step. */
interface AsideLine {
  key: string;
  name: string;
}

/**
 * The chart's rows: the evaluations themselves, unless some ran aside while the run was paused
 * (PEP's "Retrain now"). Those branch off at the step the run paused at, and the run resumed
 * from there: each is drawn as a dashed line of its own (its AUC under its own key), and the
 * run's own lines skip their rows.
 */
function chartRows(evaluations: EvaluationMetrics[]): {
  rows: (EvaluationMetrics | Record<string, number | string>)[];
  asides: AsideLine[];
  /** The run's own evaluations (the latest and the best AUC are theirs). */
  own: EvaluationMetrics[];
} {
  if (!evaluations.some((e) => e.pausedAt !== undefined)) {
    return { rows: evaluations, asides: [], own: evaluations };
  }
  const asides: AsideLine[] = [];
  const keyOf = new Map<string, string>();
  const rows = evaluations.map((e) => {
    if (e.pausedAt === undefined) return e;
    const id = `${e.phase}@${e.pausedAt}`;
    let key = keyOf.get(id);
    if (!key) {
      key = `aside${asides.length}`;
      keyOf.set(id, key);
      asides.push({ key, name: `${e.phase} while paused at step ${e.pausedAt} (val AUC)` });
    }
    return { step: e.step, epoch: e.epoch, phase: e.phase, [key]: e.validationAuc };
  });
  return { rows, asides, own: evaluations.filter((e) => e.pausedAt === undefined) };
}

/** The validation chart drawn from props (ValidationChart feeds it from the store). */
export function ValidationChartView({ testId, evaluations, bayes }: ValidationChartViewProps) {
  const { rows, asides, own } = useMemo(() => chartRows(evaluations), [evaluations]);
  const last = own.at(-1);
  // A method's later phases (prune, fine-tune...) restart their epochs, and a retrain while
  // paused counts its steps from the pause: then the axis is steps, and "best" is the best of
  // the phase in progress (what that phase keeps).
  const phased = asides.length > 0 || own.some((e) => e.phase !== own[0].phase);
  const xKey = phased ? 'step' : 'epoch';
  let best: EvaluationMetrics | undefined = undefined;
  for (const e of own) {
    if (phased && e.phase !== last?.phase) continue;
    if (!best || e.validationAuc > best.validationAuc) best = e;
  }
  const hasTest = own.some((e) => e.testAuc !== null);
  const fractional = phased || evaluations.some((e) => !Number.isInteger(e.epoch));
  const dots = evaluations.length <= 30;
  const legend = useMemo<LegendEntry[]>(
    () => [
      { key: 'auc', label: 'validation AUC', color: BLUE },
      ...asides.map((a) => ({ key: a.key, label: a.name, color: PURPLE, dashed: true })),
      ...(hasTest
        ? [{ key: 'test', label: 'test AUC (not used to select)', color: GREY, dashed: true }]
        : []),
      { key: 'logloss', label: 'validation logloss', color: ORANGE },
    ],
    [asides, hasTest],
  );
  return (
    <section
      className="chart-card"
      data-testid={testId}
      data-points={evaluations.length}
      data-last-auc={last ? last.validationAuc : ''}
    >
      <h3>
        Validation AUC and logloss{' '}
        <small>
          latest AUC{' '}
          <span data-testid={testId ? 'latest-auc' : undefined}>
            {formatMetric(last?.validationAuc)}
          </span>
          {best && (
            <>
              {' '}
              · best {formatMetric(best.validationAuc)}{' '}
              {phased ? `at step ${best.step} (${best.phase})` : `at epoch ${best.epoch}`}
            </>
          )}
          {bayes !== null && <> · Bayes AUC (test) {formatMetric(bayes)}</>}
        </small>
      </h3>
      <ResponsiveContainer width="100%" height={216}>
        <LineChart data={rows} margin={LINE_CHART_MARGIN}>
          <CartesianGrid {...CHART_GRID} />
          <XAxis
            {...PLAIN_AXIS}
            dataKey={xKey}
            type="number"
            domain={ZERO_TO_DATA_MAX}
            allowDecimals={fractional}
            label={phased ? STEP_LABEL : EPOCH_LABEL}
          />
          <YAxis
            {...PLAIN_AXIS}
            yAxisId="auc"
            domain={AUC_DOMAIN}
            ticks={AUC_TICKS}
            width={48}
            tickFormatter={formatTwoDecimals}
          />
          <YAxis
            {...PLAIN_AXIS}
            yAxisId="logloss"
            orientation="right"
            domain={AUTO_DOMAIN}
            width={48}
            tickFormatter={formatTwoDecimals}
          />
          <Tooltip {...TOOLTIP} formatter={formatTooltipValue} />
          {bayes !== null && (
            <StableReferenceLine
              yAxisId="auc"
              y={bayes}
              stroke={GREEN}
              strokeDasharray="6 4"
              label={BAYES_LABEL}
            />
          )}
          <Line
            yAxisId="auc"
            dataKey="validationAuc"
            name="validation AUC"
            stroke={BLUE}
            strokeWidth={2}
            dot={dots}
            connectNulls={asides.length > 0}
            isAnimationActive={false}
          />
          {asides.map((a) => (
            <Line
              key={a.key}
              yAxisId="auc"
              dataKey={a.key}
              name={a.name}
              stroke={PURPLE}
              strokeDasharray="5 3"
              dot
              connectNulls
              isAnimationActive={false}
            />
          ))}
          {hasTest && (
            <Line
              yAxisId="auc"
              dataKey="testAuc"
              name="test AUC (not used to select)"
              stroke={GREY}
              strokeDasharray="4 3"
              dot={false}
              isAnimationActive={false}
            />
          )}
          <Line
            yAxisId="logloss"
            dataKey="validationLogloss"
            name="validation logloss"
            stroke={ORANGE}
            dot={dots}
            connectNulls={asides.length > 0}
            isAnimationActive={false}
          />
          {best && (
            <StableReferenceDot
              yAxisId="auc"
              x={phased ? best.step : best.epoch}
              y={best.validationAuc}
              r={6}
              fill="none"
              stroke={BLUE}
              strokeWidth={2}
              label={KEPT_LABEL}
            />
          )}
        </LineChart>
      </ResponsiveContainer>
      <LineLegend entries={legend} />
    </section>
  );
}
