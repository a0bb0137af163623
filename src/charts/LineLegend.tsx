/**
 * A chart's legend as plain HTML beside the plot. recharts' own Legend measures itself in the
 * DOM after each drawing and then has the chart lay out and draw again, which made a live
 * chart's drawing about a third longer; this one costs the browser a line of text.
 */
export interface LegendEntry {
  key: string | number;
  label: string;
  /** The series colour (a CSS colour, e.g. from seriesColor). */
  color: string;
  /** A dashed line (a reference, or a series drawn dashed). */
  dashed?: boolean;
  /** Points rather than a line (a scatter series). */
  dot?: boolean;
  /** A filled square (a bar series). */
  box?: boolean;
}

export function LineLegend({ entries, testId }: { entries: LegendEntry[]; testId?: string }) {
  if (entries.length === 0) return null;
  return (
    <p className="chart-legend" data-testid={testId}>
      {entries.map((e) => (
        <span key={e.key}>
          {e.dot || e.box ? (
            <span className={e.dot ? 'dot' : 'box'} style={{ background: e.color }} />
          ) : (
            <span
              className="line-swatch"
              style={{ borderTop: `2px ${e.dashed ? 'dashed' : 'solid'} ${e.color}` }}
            />
          )}
          {e.label}
        </span>
      ))}
    </p>
  );
}
