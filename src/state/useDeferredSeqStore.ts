import { startTransition, useEffect, useState } from 'react';
import { useSeqStore, type SeqState } from './seqStore';

/**
 * Reads a slice of the sequence store as a low-priority (transition) update, as
 * useDeferredLabStore does for the click-through store: the charts that redraw while a run
 * streams let React yield to input and painting between their renders.
 */
export function useDeferredSeqStore<T>(selector: (s: SeqState) => T): T {
  const [value, setValue] = useState(() => selector(useSeqStore.getState()));
  useEffect(() => {
    // Components using this mount with the app, before any run streams into the store.
    let last = selector(useSeqStore.getState());
    return useSeqStore.subscribe((state) => {
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
