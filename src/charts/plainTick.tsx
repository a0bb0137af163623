import type { ReactElement } from 'react';

/** What recharts hands a custom tick renderer (the subset used here). */
export interface TickRenderProps {
  x?: number | string;
  y?: number | string;
  textAnchor?: 'start' | 'middle' | 'end' | 'inherit';
  verticalAnchor?: 'start' | 'middle' | 'end';
  fill?: string;
  fontSize?: number | string;
  className?: string;
  index?: number;
  payload?: { value?: unknown };
  tickFormatter?: (value: unknown, index: number) => string;
}

const DY = { start: '0.71em', middle: '0.355em', end: '0' } as const;

/**
 * An axis tick drawn as one plain SVG <text>. Recharts' own tick is a <Text> that receives the
 * axis width as its wrapping width, so every render measures each label in the DOM
 * (getBoundingClientRect, a forced layout); while training, those measurements made up most of
 * the main thread's longest tasks. Tick labels here are short numbers that never need wrapping.
 */
export function plainTick(props: TickRenderProps): ReactElement {
  const { payload, tickFormatter, index = 0 } = props;
  const raw = payload?.value;
  const label = tickFormatter ? tickFormatter(raw, index) : String(raw ?? '');
  return (
    <text
      x={props.x}
      y={props.y}
      dy={DY[props.verticalAnchor ?? 'middle']}
      textAnchor={props.textAnchor ?? 'middle'}
      fill={props.fill ?? 'var(--chart-axis)'}
      fontSize={props.fontSize}
      className={props.className}
    >
      {label}
    </text>
  );
}
