import { useMemo, useRef, useState } from 'react';
import type { ImportedModelCard, TestMetrics } from '../../workers/protocol';
import { useLabStore, isRunBusy } from '../state/labStore';
import { useSeqStore } from '../state/seqStore';
import { configFromForm } from '../state/runForm';
import { runController } from '../state/runController';
import { formatBytes, formatCount, formatMetric } from '../format';
import { OTHER_PART_COLOUR, PART_COLOURS } from './ModelSummaryCard';
import { SeqModelFileCard } from './SeqModelFileCard';

/**
 * Model files: open one (picker or drop) to see its card and score the test split of the data
 * the form names with it. Both kinds open here, routed by what the file is: a click-through
 * model (architecture, compression, metrics, bytes per part as a bar; evaluated on the CTR form's
 * data) or a sequence model (NextItNet / CpRec: blocks, parameters per part against the
 * uncompressed model, stored ranking metrics; evaluated on the next-item form's sequences). A
 * file that cannot be read is refused with the reason, and the one opened before stays.
 */
export function ModelFilePanel() {
  const state = useLabStore((s) => s.modelFile);
  const ctrBusy = useLabStore((s) => isRunBusy(s.run.state));
  const seqBusy = useSeqStore((s) => isRunBusy(s.run.state));
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const open = (file: File | undefined) => {
    if (file) void runController.openModelFile(file);
  };
  const busy = state.busy || ctrBusy || seqBusy;
  return (
    <fieldset className="model-files" data-testid="model-file-panel">
      <legend>Model files</legend>
      <div
        className={`drop-zone${dragging ? ' drop-zone-over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          open(e.dataTransfer.files[0]);
        }}
      >
        Drop an exported model (.json, click-through or next-item) here or{' '}
        <button type="button" className="link-button" onClick={() => input.current?.click()}>
          choose a file
        </button>
        <input
          ref={input}
          type="file"
          accept=".json,application/json"
          hidden
          data-testid="model-file-input"
          onChange={(e) => {
            open(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
      </div>
      {state.busy && <p className="muted">Reading…</p>}
      {state.error && (
        <p className="field-error" data-testid="model-file-error">
          {state.error}
        </p>
      )}
      {state.kind === 'ctr' && state.card && (
        <CtrModelFileCard card={state.card} evaluation={state.evaluation} busy={busy} />
      )}
      {state.kind === 'seq' && state.seqCard && (
        <SeqModelFileCard
          card={state.seqCard}
          evaluation={state.seqEvaluation}
          evaluatedOn={state.seqEvaluatedOn}
          busy={busy}
          onEvaluate={(config, label) =>
            void runController.evaluateSequenceModelFile(config, label)
          }
        />
      )}
    </fieldset>
  );
}

/** A click-through model file: evaluated on the data the click-through form names. */
function CtrModelFileCard({
  card,
  evaluation,
  busy,
}: {
  card: ImportedModelCard;
  evaluation: TestMetrics | null;
  busy: boolean;
}) {
  const form = useLabStore((s) => s.form);
  const { config } = useMemo(() => configFromForm(form), [form]);
  const total = card.parts.reduce((a, p) => a + p.bytes, 0);
  return (
    <div data-testid="model-file-card" data-kind="ctr">
      <p>
        <strong>{card.fileName}</strong> · {formatBytes(card.fileBytes)} file
        <br />
        {card.model} · d={card.embeddingDim} · {card.numFields} fields ·{' '}
        <span data-testid="model-file-method">{card.methodLabel}</span> ({card.embeddingKind}{' '}
        embedding) · trained on {card.datasetName}
      </p>
      <div className="part-bar" role="img" aria-label="bytes per part">
        {card.parts.map((p) => (
          <span
            key={p.part}
            title={`${p.part}: ${formatBytes(p.bytes)}`}
            style={{ flexGrow: p.bytes, background: PART_COLOURS[p.part] ?? OTHER_PART_COLOUR }}
          />
        ))}
      </div>
      <ul className="part-legend">
        {card.parts.map((p) => (
          <li key={p.part} data-testid={`model-file-part-${p.part}`} data-bytes={p.bytes}>
            <i style={{ background: PART_COLOURS[p.part] ?? OTHER_PART_COLOUR }} />
            {p.part} {formatBytes(p.bytes)} ({((100 * p.bytes) / Math.max(1, total)).toFixed(1)}
            %)
          </li>
        ))}
      </ul>
      <table className="metrics">
        <tbody>
          <tr>
            <th>weights</th>
            <td>{formatBytes(card.metrics.weightBytes)}</td>
            <td className="muted">
              {formatBytes(card.metrics.denseWeightBytes)} uncompressed ·{' '}
              {formatCount(card.metrics.parameters)} parameters · embedding sparsity{' '}
              {(100 * card.metrics.sparsity).toFixed(1)}%
            </td>
          </tr>
          <tr>
            <th>test AUC</th>
            <td data-testid="model-file-test-auc">{formatMetric(card.metrics.testAuc)}</td>
            <td className="muted">as measured when it was exported</td>
          </tr>
          {evaluation && (
            <tr>
              <th>evaluated</th>
              <td data-testid="model-file-eval-auc">{formatMetric(evaluation.auc)}</td>
              <td className="muted">
                test AUC on the {config.source === 'synthetic' ? 'synthetic slice' : 'loaded file'}{' '}
                · logloss {formatMetric(evaluation.logloss)} · accuracy{' '}
                {formatMetric(evaluation.accuracy)}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <button
        type="button"
        data-testid="model-file-evaluate"
        disabled={busy}
        onClick={() =>
          void runController.evaluateModelFile({ source: config.source, data: config.data })
        }
      >
        Evaluate on the {config.source === 'synthetic' ? 'synthetic slice' : 'loaded file'}
      </button>
    </div>
  );
}
