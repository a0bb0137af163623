import { startTransition, useEffect, useState } from 'react';
import { chartRedraws } from './redrawQueue';

/**
 * `value` as the chart draws it: a new value is shown when the chart's turn in the redraw queue
 * comes (see redrawQueue.ts), so that no two charts redraw in the same main-thread task. The
 * first value is shown at once. `value` must keep its identity while it does not change (a
 * memoised object of the chart's inputs).
 */
export function useRedrawTurn<T>(value: T): T {
  const [shown, setShown] = useState(value);
  // A stable key per chart instance.
  const [key] = useState(() => ({}));
  useEffect(() => {
    if (Object.is(value, shown)) return;
    chartRedraws.request(key, () => startTransition(() => setShown(value)));
  }, [key, value, shown]);
  // After the commit that shows the new value (children's effects, where recharts dispatches
  // its data, have run by then): the next chart may take its turn.
  useEffect(() => chartRedraws.done(key), [key, shown]);
  useEffect(() => () => chartRedraws.cancel(key), [key]);
  return shown;
}
