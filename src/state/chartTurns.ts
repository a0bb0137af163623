/**
 * Which charts a publish of the run may redraw. Each chart's redraw is one stretch of main-thread
 * work (recharts recomputes its whole store synchronously when its data changes), and on a
 * machine whose cores the training worker keeps busy two redraws in one task can pass 50 ms. So
 * a publish redraws one group of charts at most, the groups take turns, and a group that waits
 * keeps its latest data for the next publish (one publish interval later).
 */

/** The groups of charts that change while a run trains. */
export type ChartGroup =
  /** The loss chart and the method's step-series lines (both follow the steps). */
  | 'loss'
  /** The validation chart and the method's evaluation series. */
  | 'evaluations'
  /** The method's vectors, point sets and histograms (bars per field, scatter plots). */
  | 'method';

export const CHART_GROUPS: readonly ChartGroup[] = ['loss', 'evaluations', 'method'];

export interface ChartTurnOptions {
  /** The run is over: everything is drawn now. */
  final: boolean;
  /** The run's first seconds: no chart is drawn yet (the step counter and state still are). */
  warmingUp: boolean;
}

/**
 * The groups to draw now out of those with new data: all of them in the final publish, none
 * while warming up, otherwise the first one after `last` in CHART_GROUPS' cyclic order, so that
 * no group waits for more than one turn of each of the others.
 */
export function chartGroupsToDraw(
  changed: readonly ChartGroup[],
  last: ChartGroup | null,
  { final, warmingUp }: ChartTurnOptions,
): ChartGroup[] {
  if (final) return CHART_GROUPS.filter((g) => changed.includes(g));
  if (warmingUp) return [];
  const start = last === null ? 0 : CHART_GROUPS.indexOf(last) + 1;
  for (let i = 0; i < CHART_GROUPS.length; i++) {
    const group = CHART_GROUPS[(start + i) % CHART_GROUPS.length];
    if (changed.includes(group)) return [group];
  }
  return [];
}
