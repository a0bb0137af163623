import { useMemo } from 'react';
import { isRunBusy, useLabStore } from '../state/labStore';
import { configFromForm, FORM_FIELDS, type FormField } from '../state/runForm';
import { runController } from '../state/runController';

/**
 * Fields that mean nothing for the chosen model or optimizer: FM has no MLP; UMEC's DLRM has no
 * dropout or BatchNorm; momentum is SGD's.
 */
function hiddenFor(model: string | undefined, optimizer: string | undefined): string[] {
  const hidden = optimizer === 'sgd' ? [] : ['train.momentum'];
  if (model === 'fm') return [...hidden, 'train.mlpLayers', 'train.dropout', 'train.batchNorm'];
  if (model === 'dlrm') return [...hidden, 'train.dropout', 'train.batchNorm'];
  return hidden;
}

function FieldInput({ field }: { field: FormField }) {
  const value = useLabStore((s) => s.form[field.id] ?? '');
  const setForm = useLabStore((s) => s.setForm);
  const running = useLabStore((s) => isRunBusy(s.run.state));
  const inputId = `field-${field.id}`;
  if (field.kind === 'flag') {
    return (
      <input
        id={inputId}
        type="checkbox"
        checked={value === 'true'}
        disabled={running}
        onChange={(e) => setForm(field.id, String(e.target.checked))}
        data-testid={inputId}
      />
    );
  }
  if (field.kind === 'choice') {
    return (
      <select
        id={inputId}
        value={value}
        disabled={running}
        onChange={(e) => setForm(field.id, e.target.value)}
        data-testid={inputId}
      >
        {field.choices?.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    );
  }
  return (
    <input
      id={inputId}
      type="text"
      inputMode={field.kind === 'number' ? 'decimal' : 'text'}
      value={value}
      disabled={running}
      placeholder={field.help}
      onChange={(e) => setForm(field.id, e.target.value)}
      data-testid={inputId}
    />
  );
}

export function RunFormPanel() {
  const form = useLabStore((s) => s.form);
  const state = useLabStore((s) => s.run.state);
  const resetForm = useLabStore((s) => s.resetForm);
  const engineStatus = useLabStore((s) => s.engineStatus);
  const { config, errors } = useMemo(() => configFromForm(form), [form]);
  const errorCount = Object.keys(errors).length;
  const busy = isRunBusy(state);
  const model = form['train.model'];

  const source = form['source'];
  const sections: { title: string; prefix: string }[] = [
    { title: 'Data', prefix: 'source' },
    ...(source === 'synthetic' ? [{ title: 'Synthetic slice', prefix: 'data.' }] : []),
    { title: 'Model and training', prefix: 'train.' },
  ];

  return (
    <form
      className="run-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (errorCount === 0 && !busy) void runController.train(config);
      }}
    >
      {sections.map((section) => (
        <fieldset key={section.prefix}>
          <legend>{section.title}</legend>
          {FORM_FIELDS.filter((f) => f.id.startsWith(section.prefix))
            .filter((f) => !hiddenFor(model, form['train.denseOptimizer']).includes(f.id))
            .map((f) => (
              <div className="field" key={f.id}>
                <label htmlFor={`field-${f.id}`}>{f.label}</label>
                <FieldInput field={f} />
                {errors[f.id] && (
                  <div className="field-error" data-testid={`error-${f.id}`}>
                    {errors[f.id]}
                  </div>
                )}
              </div>
            ))}
        </fieldset>
      ))}
      {errorCount > 0 && (
        <p className="form-summary" data-testid="form-invalid">
          Fix {errorCount} {errorCount === 1 ? 'field' : 'fields'} to train.
        </p>
      )}
      <div className="controls">
        <button
          type="submit"
          data-testid="train-button"
          disabled={busy || errorCount > 0 || engineStatus === 'failed'}
        >
          Train
        </button>
        {state === 'paused' ? (
          <button type="button" data-testid="resume-button" onClick={() => runController.resume()}>
            Resume
          </button>
        ) : (
          <button
            type="button"
            data-testid="pause-button"
            disabled={state !== 'running'}
            onClick={() => runController.pause()}
          >
            Pause
          </button>
        )}
        <button
          type="button"
          data-testid="stop-button"
          disabled={!busy}
          onClick={() => runController.stop()}
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
