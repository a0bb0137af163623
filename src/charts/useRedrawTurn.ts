import { startTransition, useEffect, useState } from 'react';
import { chartRedraws } from './redrawQueue';

/**
 * Marks a moment of a chart's turn in the page's performance timeline (`redraw-start:<label>`,
 * `redraw-done:<label>`): a trace records the mark, and `npm run bench:responsiveness -- --trace`
 * adds up the main-thread CPU time of each chart's turns from there. Cleared at once, so that
 * the page's buffer of marks does not grow during a long run.
 */
function markTurn(name: string): void {
  if (typeof performance === 'undefined' || typeof performance.mark !== 'function') return;
  performance.mark(name);
  performance.clearMarks(name);
}

/**
 * `value` as the chart draws it: a new value is shown when the chart's turn in the redraw queue
 * comes (see redrawQueue.ts), so that no two charts redraw in the same main-thread task. The
 * first value is shown at once. `value` must keep its identity while it does not change (a
 * memoised object of the chart's inputs). `label` names the chart in the performance timeline.
 */
export function useRedrawTurn<T>(value: T, label: string): T {
  const [shown, setShown] = useState(value);
  // A stable key per chart instance.
  const [key] = useState(() => ({}));
  useEffect(() => {
    if (Object.is(value, shown)) return;
    chartRedraws.request(key, () => {
      markTurn(`redraw-start:${label}`);
      startTransition(() => setShown(value));
    });
  }, [key, value, shown, label]);
  // After the commit that shows the new value (children's effects, where recharts dispatches
  // its data, have run by then): the next chart may take its turn.
  useEffect(() => {
    markTurn(`redraw-done:${label}`);
    chartRedraws.done(key);
  }, [key, shown, label]);
  useEffect(() => () => chartRedraws.cancel(key), [key]);
  return shown;
}
