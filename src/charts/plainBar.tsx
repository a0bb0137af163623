import type { ReactElement, ReactNode } from 'react';
import { Bar } from 'recharts';

/** What recharts hands a custom bar shape (the subset used here; Cell's props arrive merged). */
export interface BarRenderProps {
  x?: number;
  y?: number;
  width?: number;
  height?: number;
  fill?: string;
  fillOpacity?: number | string;
  stroke?: string;
  strokeDasharray?: string | number;
}

/**
 * A bar drawn as one plain SVG <rect>. recharts keys each bar by its position and value, so a
 * bar whose value changed is a new element on every redraw, and its own bar (Rectangle) mounts
 * an animation wrapper, reads the reduced-motion media query and measures its path in the DOM
 * each time; in a live chart whose bars all move, that was most of a redraw.
 */
export function plainBar(props: BarRenderProps): ReactElement {
  const { x = 0, y = 0, width = 0, height = 0 } = props;
  // A negative height or width (a value below the baseline) starts the rect at its other edge.
  return (
    <rect
      x={width < 0 ? x + width : x}
      y={height < 0 ? y + height : y}
      width={Math.abs(width)}
      height={Math.abs(height)}
      fill={props.fill}
      fillOpacity={props.fillOpacity}
      stroke={props.stroke}
      strokeDasharray={props.strokeDasharray}
    />
  );
}

/** A bar series: its data key, its name (legend and tooltip) and its colour. */
export interface BarSeries {
  key: string;
  label: string;
  color: string;
}

/**
 * One recharts Bar per series, drawn with plainBar and no animation; `child` gives each bar its
 * children (e.g. a LabelList of its values). Called as a function inside the chart: recharts
 * finds its bars among the chart's children.
 */
export function plainBars(
  series: readonly BarSeries[],
  child?: (key: string) => ReactNode,
): ReactElement[] {
  return series.map((s) => (
    <Bar
      key={s.key}
      dataKey={s.key}
      name={s.label}
      fill={s.color}
      isAnimationActive={false}
      shape={plainBar}
    >
      {child?.(s.key)}
    </Bar>
  ));
}
