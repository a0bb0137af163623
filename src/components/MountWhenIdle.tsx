import { useEffect, useState, type ReactNode } from 'react';
import { useRedrawTurn } from '../charts/useRedrawTurn';

/**
 * Mounts its children one idle period after its own mount, in a turn of the chart redraw queue
 * (see redrawQueue.ts). A chart's first mount is its most expensive render (recharts builds its
 * whole store and SVG tree); deferring it keeps that work out of the frame that first shows a
 * panel, and the queue keeps several panels that appear together from mounting in one task.
 */
export function MountWhenIdle({
  children,
  height,
  label,
}: {
  children: ReactNode;
  height: number;
  /** The chart's name in the performance timeline (see useRedrawTurn). */
  label: string;
}) {
  const [idle, setIdle] = useState(false);
  useEffect(() => {
    const show = () => setIdle(true);
    if (typeof requestIdleCallback === 'function') {
      const handle = requestIdleCallback(show, { timeout: 500 });
      return () => cancelIdleCallback(handle);
    }
    const handle = setTimeout(show, 50);
    return () => clearTimeout(handle);
  }, []);
  const ready = useRedrawTurn(idle, `mount:${label}`);
  return ready ? <>{children}</> : <div style={{ height }} aria-busy="true" />;
}
