/** Props the live charts share, defined once so that they keep their identity between updates. */
import { plainTick } from './plainTick';

/*
 * Theme colours: custom properties of src/styles.css, redefined there for the dark scheme.
 * SVG presentation attributes (stroke, fill) accept var() in Chromium, so the charts follow the
 * system's light or dark setting without re-rendering.
 */
/** Axis lines, tick marks and tick labels. */
export const CHART_AXIS = 'var(--chart-axis)';
/** Axis titles and other text drawn in a chart. */
export const CHART_TEXT = 'var(--chart-text)';
/** Reference lines (markers, baselines) and their labels. */
export const CHART_REF = 'var(--chart-ref)';
/** The page's text colour, for marks that were near-black (a Pareto front, point labels). */
export const CHART_INK = 'var(--chart-ink)';
/** The chart's surface (e.g. the ring around a point). */
export const CHART_SURFACE = 'var(--surface)';

/**
 * A series colour that stays readable in both themes: `var(--series-<hex>, <hex>)`. The light
 * theme uses the colour as given; the dark one substitutes a lighter shade where styles.css
 * names one (the dark blues, browns and greys), and the pale colours paired with them get a
 * dimmer one so that pairs stay apart.
 */
export function seriesColor(hex: string): string {
  return /^#[0-9a-fA-F]{6}$/.test(hex)
    ? `var(--series-${hex.slice(1).toLowerCase()}, ${hex})`
    : hex;
}

export const CHART_GRID = { strokeDasharray: '3 3', stroke: 'var(--chart-grid)' } as const;

/**
 * For every axis of a chart that redraws while training: recharts' defaults measure each tick
 * label in the DOM on every render (to drop overlapping ticks, and to wrap each label to the
 * axis width), and those forced layouts were most of the main thread's longest tasks. The axis'
 * stroke colours its line, its tick marks and (recharts passes it as the fill) its tick labels.
 */
export const PLAIN_AXIS = { interval: 0, tick: plainTick, stroke: CHART_AXIS } as const;

/** Tooltip box and hover cursor in the theme's colours (recharts draws them white and grey). */
export const TOOLTIP = {
  contentStyle: {
    backgroundColor: 'var(--surface)',
    border: '1px solid var(--border)',
    color: 'var(--text)',
    borderRadius: 4,
  },
  cursor: { stroke: 'var(--chart-cursor)', fill: 'var(--chart-cursor)' },
} as const;

export const LINE_CHART_MARGIN = { top: 8, right: 16, bottom: 8, left: 0 };

// Axis domains as constants: recharts re-registers an axis, and recomputes the whole chart, when
// a prop changes identity.
export const AUTO_DOMAIN: [string, string] = ['auto', 'auto'];
export const ZERO_TO_AUTO: [number, string] = [0, 'auto'];

export const formatTooltipValue = (v: unknown) =>
  typeof v === 'number' ? v.toFixed(4) : String(v);

/**
 * The label of a numbered marker line (a setting changed while training): its number at the
 * line's top; `row` 1 sets it one line lower, so that neighbouring markers' numbers do not
 * overlap. The markers' texts are listed under the chart.
 */
export function markerLabel(index: number, row = 0) {
  return {
    value: String(index + 1),
    position: 'insideTopLeft' as const,
    fontSize: 10,
    fontWeight: 600,
    fill: CHART_TEXT,
    dy: row * 11,
  };
}
