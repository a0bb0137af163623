import { useState, useSyncExternalStore } from 'react';
import { isRunBusy, useLabStore } from '../state/labStore';
import { useSeqStore } from '../state/seqStore';
import { useDatasetStore } from '../state/datasetStore';
import { configFromForm } from '../state/runForm';
import { runController } from '../state/runController';
import {
  applyPreset,
  LAB_PRESETS,
  missingData,
  presetNeeds,
  type LabPreset,
  type QueuedRun,
} from '../state/presets';
import { queueProgressText, RunQueue } from '../state/runQueue';
import type { DataSource } from '../../workers/protocol';

/**
 * The lab's queue of click-through runs: each run's settings go into the form (so the form and
 * the URL show the run in progress), through the form's validation, and to the run controller,
 * so that every run lands in the runs table like one started with Train.
 */
const labQueue = new RunQueue<QueuedRun>({
  async run(item) {
    useSeqStore.setState({ task: 'ctr' });
    useLabStore.getState().replaceForm(item.form);
    const { config, errors } = configFromForm(item.form);
    const problems = Object.entries(errors);
    if (problems.length > 0) {
      return { outcome: 'refused', message: problems.map(([k, m]) => `${k}: ${m}`).join('; ') };
    }
    const busy = () =>
      isRunBusy(useLabStore.getState().run.state) || isRunBusy(useSeqStore.getState().run.state);
    if (busy()) return { outcome: 'refused', message: 'another run holds the engine' };
    const before = useLabStore.getState().run.id;
    await runController.train(config);
    const run = useLabStore.getState().run;
    if (run.id === before) return { outcome: 'refused', message: 'another run holds the engine' };
    if (run.state === 'done') return { outcome: run.result?.stoppedEarly ? 'stopped' : 'finished' };
    if (run.state === 'failed') return { outcome: 'failed', message: run.error ?? undefined };
    return { outcome: 'stopped' };
  },
});

function QueueProgress() {
  const view = useSyncExternalStore(labQueue.subscribe, labQueue.getView);
  if (view.status === 'idle') return null;
  const ended = view.outcomes.filter((o) => o !== null).length;
  return (
    <div
      className={`queue-progress queue-${view.status}`}
      role="status"
      data-testid="queue-progress"
      data-status={view.status}
    >
      <div className="queue-name">{view.name}</div>
      <progress max={view.labels.length} value={ended} aria-label="Runs of the queue ended" />
      <div className="small" data-testid="queue-progress-text">
        {queueProgressText(view)}
      </div>
      {view.status === 'running' ? (
        <div className="queue-actions">
          <button
            type="button"
            data-testid="queue-cancel"
            disabled={view.cancelRequested}
            title="No run starts after the one in progress (Stop ends that one)"
            onClick={() => labQueue.cancel()}
          >
            Cancel
          </button>
          <span className="muted small">the rest; Stop ends this run</span>
        </div>
      ) : (
        <div className="queue-actions">
          <button type="button" data-testid="queue-dismiss" onClick={() => labQueue.dismiss()}>
            Dismiss
          </button>
        </div>
      )}
    </div>
  );
}

function PresetEntry({
  preset,
  disabled,
  onApply,
}: {
  preset: LabPreset;
  disabled: boolean;
  onApply: (queueSource: DataSource) => void;
}) {
  const loaded = useDatasetStore((s) => s.loaded);
  const [queueSource, setQueueSource] = useState<DataSource>('synthetic');
  const needs = presetNeeds(preset, queueSource);
  const missing = missingData(needs, loaded);
  const summaryId = `preset-${preset.id}-summary`;
  const needsId = `preset-${preset.id}-needs`;
  return (
    <li className="preset" data-testid={`preset-entry-${preset.id}`}>
      <button
        type="button"
        data-testid={`preset-${preset.id}`}
        aria-describedby={needs ? `${summaryId} ${needsId}` : summaryId}
        disabled={disabled}
        onClick={() => onApply(queueSource)}
      >
        {preset.label}
      </button>
      <div className="preset-summary" id={summaryId}>
        {preset.summary}
      </div>
      {needs && (
        <div
          id={needsId}
          className={missing ? 'preset-needs preset-needs-missing' : 'preset-needs'}
          data-testid={`preset-needs-${preset.id}`}
        >
          {missing ? `${needs.text}.` : `Uses the loaded ${loaded?.name ?? 'file'}.`}
        </div>
      )}
      {preset.kind === 'queue' && (
        <label className="preset-option small">
          Runs on{' '}
          <select
            data-testid="preset-queue-source"
            value={queueSource}
            disabled={disabled}
            onChange={(e) => setQueueSource(e.target.value as DataSource)}
          >
            <option value="synthetic">the small synthetic slice</option>
            <option value="loaded">the loaded file</option>
          </select>
        </label>
      )}
    </li>
  );
}

/**
 * One-click setups across methods and tasks, at the top of the side panel: each fills the form
 * of its task (switching tasks when needed) or queues several runs; what it needs loaded first is
 * said under it and, when missing, in the banner once applied.
 */
export function PresetsMenu() {
  const [open, setOpen] = useState(false);
  const ctrBusy = useLabStore((s) => isRunBusy(s.run.state));
  const seqBusy = useSeqStore((s) => isRunBusy(s.run.state));
  const queue = useSyncExternalStore(labQueue.subscribe, labQueue.getView);
  const queueActive = queue.status === 'running';
  const disabled = ctrBusy || seqBusy || queueActive;
  return (
    <section className="presets" aria-label="Presets" data-testid="presets">
      <details className="presets-menu" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary data-testid="presets-toggle">
          Presets <span className="muted small">one-click setups across methods and tasks</span>
        </summary>
        {disabled && (
          <p className="muted small" data-testid="presets-busy">
            {queueActive
              ? 'A queue of runs is in progress: cancel it or wait for it to end.'
              : 'A run is in progress: stop it to apply a preset.'}
          </p>
        )}
        <ul>
          {LAB_PRESETS.map((preset) => (
            <PresetEntry
              key={preset.id}
              preset={preset}
              disabled={disabled}
              onApply={(queueSource) => {
                const { applied } = applyPreset(preset, {
                  queueSource,
                  queueActive: labQueue.active,
                  startQueue: (name, runs) => void labQueue.start(name, runs),
                });
                if (applied) setOpen(false);
              }}
            />
          ))}
        </ul>
      </details>
      <QueueProgress />
    </section>
  );
}
