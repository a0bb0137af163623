import type { ChartSpec, SeriesSpec } from '../../workers/methods/methodSpec';
import type { DatasetSummary, EvaluationMetrics } from '../../workers/protocol';
import type { RunView } from '../state/labStore';

/** What one method chart draws from: the run's fields of its type, the others constant. */
export interface MethodChartInputs {
  lines: RunView['methodLines'];
  evaluations: EvaluationMetrics[];
  markers: RunView['markers'];
  allVectors: RunView['methodVectors'];
  dataset: DatasetSummary | null;
  allPoints: RunView['methodPoints'];
  histograms: RunView['methodHistograms'];
}

// Constants, so that only the chart's own inputs count as a change.
const NO_LINES: RunView['methodLines'] = {};
const NO_EVALUATIONS: EvaluationMetrics[] = [];
const NO_MARKERS: RunView['markers'] = [];
const NO_VECTORS: RunView['methodVectors'] = {};
const NO_POINTS: RunView['methodPoints'] = {};
const NO_HISTOGRAMS: RunView['methodHistograms'] = {};

/**
 * The run's fields a chart draws. Each keeps its identity until new data of its own arrives, and
 * a new identity costs the chart a redraw (one stretch of recharts work on the main thread), so a
 * chart takes only what its series need: a line chart of evaluations only (UMEC's validation
 * accuracy) does not follow the step series, nor a chart of step series the evaluations.
 */
export function methodChartInputs(
  chart: ChartSpec,
  series: readonly SeriesSpec[],
  run: RunView,
): MethodChartInputs {
  const line = chart.type === 'line';
  const has = (kind: SeriesSpec['kind']) => series.some((s) => s.kind === kind);
  return {
    lines: line && has('step') ? run.methodLines : NO_LINES,
    evaluations: line && has('evaluation') ? run.evaluations : NO_EVALUATIONS,
    markers: line ? run.markers : NO_MARKERS,
    allVectors: chart.type === 'bars' ? run.methodVectors : NO_VECTORS,
    dataset: chart.type === 'bars' ? run.dataset : null,
    allPoints: chart.type === 'scatter' ? run.methodPoints : NO_POINTS,
    histograms: chart.type === 'histogram' ? run.methodHistograms : NO_HISTOGRAMS,
  };
}
