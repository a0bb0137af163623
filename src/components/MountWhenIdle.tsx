import { startTransition, useEffect, useState, type ReactNode } from 'react';

/**
 * Mounts its children one idle period after its own mount. A chart's first mount is its most
 * expensive render (recharts builds its whole store and SVG tree); deferring it keeps that work
 * out of the frame that first shows a panel, so no single main-thread task grows long.
 */
export function MountWhenIdle({ children, height }: { children: ReactNode; height: number }) {
  const [ready, setReady] = useState(false);
  useEffect(() => {
    const show = () => startTransition(() => setReady(true));
    if (typeof requestIdleCallback === 'function') {
      const handle = requestIdleCallback(show, { timeout: 500 });
      return () => cancelIdleCallback(handle);
    }
    const handle = setTimeout(show, 50);
    return () => clearTimeout(handle);
  }, []);
  return ready ? <>{children}</> : <div style={{ height }} aria-busy="true" />;
}
