/** Props the live charts share, defined once so that they keep their identity between updates. */
import { plainTick } from './plainTick';

/**
 * For every axis of a chart that redraws while training: recharts' defaults measure each tick
 * label in the DOM on every render (to drop overlapping ticks, and to wrap each label to the
 * axis width), and those forced layouts were most of the main thread's longest tasks.
 */
export const PLAIN_AXIS = { interval: 0, tick: plainTick } as const;

export const LINE_CHART_MARGIN = { top: 8, right: 16, bottom: 8, left: 0 };

export const formatTooltipValue = (v: unknown) =>
  typeof v === 'number' ? v.toFixed(4) : String(v);
