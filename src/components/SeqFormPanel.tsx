import { Fragment } from 'react';
import { isRunActive, isRunBusy, useLabStore } from '../state/labStore';
import { useDatasetStore } from '../state/datasetStore';
import { seqController } from '../state/seqController';
import {
  CPREC_FIELDS,
  SEQ_DATA_FIELDS,
  SEQ_METHOD_FIELD,
  SEQ_SOURCE_FIELD,
  SEQ_TRAIN_FIELDS,
  type SeqFormErrors,
  type SeqFormField,
} from '../state/seqForm';
import { useSeqStore } from '../state/seqStore';
import { ARCH_ERROR_KEY, useSeqPlan } from '../state/useSeqPlan';
import { SEQ_METHODS } from '../../workers/sequence/seqProtocol';
import { optionFromText } from '../../workers/options';
import { OptionField } from './OptionField';
import { bringDashboardIntoView } from './bringDashboardIntoView';

function SeqField({ field, errors }: { field: SeqFormField; errors: SeqFormErrors }) {
  const value = useSeqStore((s) => s.form[field.id] ?? '');
  const setForm = useSeqStore((s) => s.setForm);
  const state = useSeqStore((s) => s.run.state);
  // Live settings can change while a run trains; the others wait for it to end.
  const locked = isRunBusy(state) && !(field.option.live && isRunActive(state));
  return (
    <OptionField
      id={field.id}
      option={field.option}
      value={value}
      locked={locked}
      error={errors[field.id]}
      onChange={(v) => setForm(field.id, v)}
    />
  );
}

const LR_FIELD = SEQ_TRAIN_FIELDS.find((f) => f.id === 'seq.train.learningRate')!;

/**
 * The next-item task's form: the data (synthetic sequences or the loaded item-sequence file),
 * NextItNet and its training, and the compression (CpRec's options only when it is chosen).
 */
export function SeqFormPanel() {
  const form = useSeqStore((s) => s.form);
  const state = useSeqStore((s) => s.run.state);
  const runningLr = useSeqStore((s) => s.run.config?.train.learningRate ?? null);
  const resetForm = useSeqStore((s) => s.resetForm);
  const engineStatus = useLabStore((s) => s.engineStatus);
  const loaded = useDatasetStore((s) => s.loaded);
  const { config, errors } = useSeqPlan();
  const errorCount = Object.keys(errors).length;
  const busy = isRunBusy(state);
  const active = isRunActive(state);
  const synthetic = form['seq.source'] === 'synthetic';
  const cprec = form['seq.method'] === 'cprec';
  const method = SEQ_METHODS.find((m) => m.id === form['seq.method']);
  // The learning rate typed while a run trains, when it differs from the one the run uses.
  const typedLr = optionFromText(LR_FIELD.option, form[LR_FIELD.id] ?? '');
  const lrChange =
    active && !errors[LR_FIELD.id] && typeof typedLr === 'number' && typedLr !== runningLr
      ? typedLr
      : null;

  return (
    <form
      className="run-form seq-form"
      data-testid="seq-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (errorCount === 0 && !busy) {
          bringDashboardIntoView();
          void seqController.train(config);
        }
      }}
    >
      <fieldset>
        <legend>Data</legend>
        <SeqField field={SEQ_SOURCE_FIELD} errors={errors} />
        {!synthetic && loaded?.kind === 'sequence' && (
          <p className="muted small" data-testid="seq-loaded-name">
            {loaded.name}: {loaded.rowsKept.toLocaleString('en-US')} sequences
          </p>
        )}
      </fieldset>
      {synthetic && (
        <fieldset>
          <legend>Synthetic sequences</legend>
          {SEQ_DATA_FIELDS.map((f) => (
            <SeqField key={f.id} field={f} errors={errors} />
          ))}
        </fieldset>
      )}
      <fieldset>
        <legend>NextItNet and training</legend>
        {SEQ_TRAIN_FIELDS.map((f) => (
          <Fragment key={f.id}>
            {/* Above the field: its help line folds away when the field loses focus, which
                would move a button below it out from under the pointer. */}
            {f === LR_FIELD && lrChange !== null && (
              <div className="live-apply">
                <button
                  type="button"
                  data-testid="seq-apply-live-button"
                  onClick={() => void seqController.tuneLearningRate(lrChange)}
                >
                  Apply learning rate {lrChange} to the running model
                </button>
              </div>
            )}
            <SeqField field={f} errors={errors} />
          </Fragment>
        ))}
      </fieldset>
      <fieldset className="method-options" data-testid="seq-method-section">
        <legend>Compression</legend>
        <SeqField field={SEQ_METHOD_FIELD} errors={errors} />
        {method && (
          <p className="method-summary" data-testid="seq-method-summary">
            {method.summary}
          </p>
        )}
        {cprec && CPREC_FIELDS.map((f) => <SeqField key={f.id} field={f} errors={errors} />)}
        {errors[ARCH_ERROR_KEY] && (
          <div className="field-error" data-testid={`error-${ARCH_ERROR_KEY}`}>
            {errors[ARCH_ERROR_KEY]}
          </div>
        )}
      </fieldset>
      {errorCount > 0 && (
        <p className="form-summary" data-testid="seq-form-invalid">
          Fix {errorCount} {errorCount === 1 ? 'problem' : 'problems'} to train.
        </p>
      )}
      <div className="controls">
        <button
          type="submit"
          data-testid="seq-train-button"
          disabled={busy || errorCount > 0 || engineStatus === 'failed'}
        >
          Train
        </button>
        {state === 'paused' ? (
          <button
            type="button"
            data-testid="seq-resume-button"
            onClick={() => seqController.resume()}
          >
            Resume
          </button>
        ) : (
          <button
            type="button"
            data-testid="seq-pause-button"
            disabled={state !== 'running'}
            onClick={() => seqController.pause()}
          >
            Pause
          </button>
        )}
        <button
          type="button"
          data-testid="seq-stop-button"
          disabled={!busy}
          onClick={() => seqController.stop()}
        >
          Stop
        </button>
        <button type="button" onClick={resetForm} disabled={busy}>
          Defaults
        </button>
      </div>
    </form>
  );
}
