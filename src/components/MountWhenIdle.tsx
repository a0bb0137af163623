import { startTransition, useEffect, useState, type ReactNode } from 'react';
import { chartRedraws } from '../charts/redrawQueue';

/**
 * Mounts its children one idle period after its own mount, in a turn of the chart redraw queue
 * (see redrawQueue.ts). A chart's first mount is its most expensive render (recharts builds its
 * whole store and SVG tree); deferring it keeps that work out of the frame that first shows a
 * panel, and the queue keeps several panels that appear together from mounting in one task.
 */
export function MountWhenIdle({ children, height }: { children: ReactNode; height: number }) {
  const [ready, setReady] = useState(false);
  const [key] = useState(() => ({}));
  useEffect(() => {
    const show = () => chartRedraws.request(key, () => startTransition(() => setReady(true)));
    if (typeof requestIdleCallback === 'function') {
      const handle = requestIdleCallback(show, { timeout: 500 });
      return () => cancelIdleCallback(handle);
    }
    const handle = setTimeout(show, 50);
    return () => clearTimeout(handle);
  }, [key]);
  useEffect(() => {
    if (ready) chartRedraws.done(key);
  }, [key, ready]);
  useEffect(() => () => chartRedraws.cancel(key), [key]);
  return ready ? <>{children}</> : <div style={{ height }} aria-busy="true" />;
}
