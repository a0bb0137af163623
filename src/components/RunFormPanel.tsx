import { memo, useMemo, useRef, useState } from 'react';
import { isRunActive, isRunBusy, useLabStore } from '../state/labStore';
import {
  configFromForm,
  FORM_FIELDS,
  formFromConfigFile,
  formWithPreset,
  METHOD_FIELD,
  methodFields,
  type FormField,
} from '../state/runForm';
import { runController } from '../state/runController';
import { methodSpecOf } from '../methods/catalog';
import { optionFromText } from '../../workers/options';
import { OptionField } from './OptionField';
import type { ConfigErrors, RunConfig } from '../../workers/protocol';
import { bringDashboardIntoView } from './bringDashboardIntoView';

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

/**
 * Live settings can change while a run trains; the others wait for it to end. The field reads
 * the lock itself (not the run's state), so a run's start or end re-renders the fields whose lock
 * changes and no other.
 */
function useFieldLocked(field: FormField): boolean {
  return useLabStore(
    (s) => isRunBusy(s.run.state) && !(field.option.live && isRunActive(s.run.state)),
  );
}

/**
 * One setting of the form. Memoised: the form re-renders as a run starts, pauses and ends, and
 * re-rendering its thirty-odd inputs each time took a visible share of the click on Train.
 */
const Field = memo(function Field({ field, error }: { field: FormField; error?: string }) {
  const value = useLabStore((s) => s.form[field.id] ?? '');
  const setForm = useLabStore((s) => s.setForm);
  const locked = useFieldLocked(field);
  return (
    <OptionField
      id={field.id}
      option={field.option}
      value={value}
      locked={locked}
      error={error}
      onChange={(v) => setForm(field.id, v)}
    />
  );
});

/** The live settings whose form value differs from what the running config uses. */
function pendingLiveChanges(
  fields: readonly FormField[],
  form: Record<string, string>,
  running: RunConfig | null,
  errors: ConfigErrors,
): Record<string, number | string | boolean | number[]> {
  const changes: Record<string, number | string | boolean | number[]> = {};
  if (!running) return changes;
  for (const f of fields) {
    if (!f.option.live || errors[f.id]) continue;
    const value = optionFromText(f.option, form[f.id] ?? '');
    let key: string;
    let current: unknown;
    if (f.section === 'train') {
      key = f.id;
      current = (running.train as unknown as Record<string, unknown>)[f.id.slice(6)];
    } else {
      const name = f.id.split('.').at(-1) as string;
      if (!f.id.startsWith(`method.${running.method.id}.`)) continue;
      key = `method.${name}`;
      current = running.method.options[name];
    }
    if (JSON.stringify(value) !== JSON.stringify(current)) changes[key] = value;
  }
  return changes;
}

function downloadConfig(config: RunConfig): void {
  const blob = new Blob([`${JSON.stringify(config, null, 2)}\n`], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `run-${config.train.model}-${config.method.id}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function openConfig(file: File): Promise<void> {
  const { showBanner, replaceForm } = useLabStore.getState();
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch (err) {
    showBanner('error', `${file.name} is not JSON: ${err instanceof Error ? err.message : err}`);
    return;
  }
  const { form, problems } = formFromConfigFile(json);
  if (!form) {
    showBanner('error', `${file.name}: ${problems.join('; ')}`);
    return;
  }
  replaceForm(form);
  if (problems.length > 0) {
    showBanner('error', `${file.name} was opened, but: ${problems.join('; ')}`);
  } else {
    showBanner('info', `Opened ${file.name}; any value out of range is marked in the form`);
  }
}

export function RunFormPanel() {
  const form = useLabStore((s) => s.form);
  const state = useLabStore((s) => s.run.state);
  const retrainingNow = useLabStore((s) => s.run.aside?.state === 'running');
  const runningConfig = useLabStore((s) => s.run.config);
  const resetForm = useLabStore((s) => s.resetForm);
  const engineStatus = useLabStore((s) => s.engineStatus);
  const fileInput = useRef<HTMLInputElement>(null);
  const { config, errors } = useMemo(() => configFromForm(form), [form]);
  const errorCount = Object.keys(errors).length;
  const busy = isRunBusy(state);
  const active = isRunActive(state);
  const model = form['train.model'];
  const method = methodSpecOf(form['method.id']);
  const methodOptionFields = method ? methodFields(method) : [];
  const hidden = hiddenFor(model, form['train.denseOptimizer']);
  const visible = (f: FormField) => !hidden.includes(f.id);
  const liveChanges = active
    ? pendingLiveChanges([...FORM_FIELDS, ...methodOptionFields], form, runningConfig, errors)
    : {};
  const liveCount = Object.keys(liveChanges).length;
  // A run can start from the weights of a kept run of the same model (e.g. a trained dense one).
  const keptRuns = useLabStore((s) => s.keptRuns);
  const [startChoice, setStartChoice] = useState('');
  const startable = keptRuns.filter((r) => r.model === model);
  const startRun = startable.some((r) => String(r.runId) === startChoice)
    ? Number(startChoice)
    : null;

  const sections: { title: string; fields: FormField[] }[] = [
    { title: 'Data', fields: FORM_FIELDS.filter((f) => f.section === 'source') },
    ...(form['source'] === 'synthetic'
      ? [{ title: 'Synthetic slice', fields: FORM_FIELDS.filter((f) => f.section === 'data') }]
      : []),
    {
      title: 'Model and training',
      fields: FORM_FIELDS.filter((f) => f.section === 'train').filter(visible),
    },
  ];

  return (
    <form
      className="run-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (errorCount === 0 && !busy) {
          bringDashboardIntoView();
          void runController.train(config, startRun);
        }
      }}
    >
      {sections.map((section) => (
        <fieldset key={section.title}>
          <legend>{section.title}</legend>
          {section.fields.map((f) => (
            <Field key={f.id} field={f} error={errors[f.id]} />
          ))}
        </fieldset>
      ))}
      <fieldset className="method-options" data-testid="method-section">
        <legend>Compression</legend>
        <Field field={METHOD_FIELD} error={errors[METHOD_FIELD.id]} />
        {method && (
          <p className="method-summary" data-testid="method-summary">
            {method.summary}
            {method.reference && <span className="muted"> — {method.reference}</span>}
          </p>
        )}
        {method?.presets && method.presets.length > 0 && (
          <div className="field">
            <label htmlFor="method-preset">Preset</label>
            <select
              id="method-preset"
              data-testid="method-preset"
              value=""
              disabled={busy}
              onChange={(e) => {
                const preset = method.presets?.find((p) => p.id === e.target.value);
                if (!preset) return;
                const { replaceForm, showBanner } = useLabStore.getState();
                replaceForm(formWithPreset(form, method, preset));
                showBanner(
                  'info',
                  `Preset applied: ${preset.label}. ${preset.summary}${preset.requires ? `. ${preset.requires}.` : ''}`,
                );
              }}
            >
              <option value="">choose a preset…</option>
              {method.presets.map((p) => (
                <option key={p.id} value={p.id} title={p.summary}>
                  {p.label}
                </option>
              ))}
            </select>
            <div className="field-help">Sets the data, training and method settings at once</div>
          </div>
        )}
        {methodOptionFields.map((f) => (
          <Field key={f.id} field={f} error={errors[f.id]} />
        ))}
        <div className="field">
          <label htmlFor="start-from">Start from</label>
          <select
            id="start-from"
            data-testid="start-from"
            value={startRun === null ? '' : String(startRun)}
            disabled={busy}
            onChange={(e) => setStartChoice(e.target.value)}
          >
            <option value="">a fresh init (the seed above)</option>
            {startable.map((r) => (
              <option key={r.runId} value={String(r.runId)}>
                the weights of kept run #{r.runId} ({r.label})
              </option>
            ))}
          </select>
          <div className="field-help">
            {startable.length === 0
              ? `No kept run of this model yet: train one (e.g. without compression) to start from it`
              : 'A kept run of this model on this data: its trained weights are the starting point'}
          </div>
        </div>
      </fieldset>
      {errorCount > 0 && (
        <p className="form-summary" data-testid="form-invalid">
          Fix {errorCount} {errorCount === 1 ? 'field' : 'fields'} to train.
        </p>
      )}
      {liveCount > 0 && (
        <div className="live-apply">
          <button
            type="button"
            data-testid="apply-live-button"
            onClick={() => void runController.tune(liveChanges)}
          >
            Apply {liveCount} {liveCount === 1 ? 'change' : 'changes'} to the running model
          </button>
        </div>
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
          <button
            type="button"
            data-testid="resume-button"
            disabled={retrainingNow}
            title={
              retrainingNow ? 'A snapshot is retraining now: wait for it or stop it' : undefined
            }
            onClick={() => runController.resume()}
          >
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
          title={
            retrainingNow ? 'Stops the snapshot retraining now; the run stays paused' : undefined
          }
          onClick={() => runController.stop()}
        >
          Stop
        </button>
        <button type="button" onClick={resetForm} disabled={busy}>
          Defaults
        </button>
      </div>
      <div className="controls config-files">
        <button
          type="button"
          data-testid="download-config"
          disabled={errorCount > 0}
          title="The run's settings as JSON: open it here later, or run it with `npm run lab -- train`"
          onClick={() => downloadConfig(config)}
        >
          Download config
        </button>
        <button
          type="button"
          data-testid="open-config"
          disabled={busy}
          onClick={() => fileInput.current?.click()}
        >
          Open config…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          hidden
          data-testid="open-config-input"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) void openConfig(file);
          }}
        />
      </div>
    </form>
  );
}
