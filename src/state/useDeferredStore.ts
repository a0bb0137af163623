import { startTransition, useEffect, useState } from 'react';
import { useLabStore, type LabState } from './labStore';

/**
 * Reads a slice of the lab store as a low-priority (transition) update. Zustand's own hook
 * re-renders synchronously in one task; charts that redraw hundreds of SVG points several
 * times a second would then hold the main thread for a whole render. A transition lets React
 * slice that render and yield to input and painting in between.
 */
export function useDeferredLabStore<T>(selector: (s: LabState) => T): T {
  const [value, setValue] = useState(() => selector(useLabStore.getState()));
  useEffect(() => {
    // Components using this mount with the app, before any run streams into the store.
    let last = selector(useLabStore.getState());
    return useLabStore.subscribe((state) => {
      const next = selector(state);
      if (Object.is(next, last)) return;
      last = next;
      startTransition(() => setValue(next));
    });
    // The selector is a stable module-level function at every call site.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return value;
}
