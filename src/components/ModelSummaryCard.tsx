import type { LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { formatCount } from '../format';
import { seriesColor } from '../charts/chartProps';

/** One colour per kind of parameter, so the stacked bar reads the same in every model. */
export const PART_COLOURS: Record<string, string> = {
  embedding: seriesColor('#1f5fa8'),
  linear: seriesColor('#6aa5e0'),
  mlp: seriesColor('#c2571a'),
  'bottom-mlp': seriesColor('#e39a5c'),
  'top-mlp': seriesColor('#c2571a'),
  attention: seriesColor('#2e7d32'),
  projection: seriesColor('#6a4fb3'),
};
/** The colour of a part without one of its own. */
export const OTHER_PART_COLOUR = seriesColor('#7b8794');

const selectPreview = (s: LabState) => s.modelPreview;

/**
 * What Train would build, before it is built: parameters per part as a stacked bar (the
 * embedding table usually dwarfs the rest, which is what compression attacks) and FLOPs per
 * example of the dense part.
 */
export function ModelSummaryCard() {
  const preview = useDeferredLabStore(selectPreview);
  if (!preview) return null;
  const { summary } = preview;
  return (
    <section className="chart-card model-summary" data-testid="model-summary">
      <h3>
        {preview.modelLabel}{' '}
        {summary && (
          <small>
            <span data-testid="model-params">{formatCount(summary.totalParams)}</span> parameters ·{' '}
            <span data-testid="model-flops">{formatCount(summary.flopsPerExample)}</span> FLOPs per
            example (dense part; lookups not counted)
          </small>
        )}
      </h3>
      {preview.error && (
        <p className="muted" data-testid="model-summary-error">
          {preview.error}
        </p>
      )}
      {summary && (
        <>
          <div className="part-bar" role="img" aria-label="parameters per part">
            {summary.parts.map((p) => (
              <span
                key={p.part}
                title={`${p.part}: ${p.params.toLocaleString()} parameters`}
                style={{
                  flexGrow: p.params,
                  background: PART_COLOURS[p.part] ?? OTHER_PART_COLOUR,
                }}
              />
            ))}
          </div>
          <ul className="part-legend">
            {summary.parts.map((p) => (
              <li key={p.part} data-testid={`model-part-${p.part}`} data-params={p.params}>
                <i style={{ background: PART_COLOURS[p.part] ?? OTHER_PART_COLOUR }} />
                {p.part} {formatCount(p.params)} (
                {((100 * p.params) / Math.max(1, summary.totalParams)).toFixed(1)}%)
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
