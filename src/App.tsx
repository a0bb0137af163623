import { useEffect, useMemo } from 'react';
import { EngineHeader } from './components/EngineHeader';
import { ErrorBanner } from './components/ErrorBanner';
import { RunFormPanel } from './components/RunFormPanel';
import { DatasetLoader } from './components/DatasetLoader';
import { ModelFilePanel } from './components/ModelFilePanel';
import { Dashboard } from './components/Dashboard';
import { ChartWarmup } from './charts/ChartWarmup';
import { runController } from './state/runController';
import { isRunActive, useLabStore } from './state/labStore';
import { configFromForm, MODEL_LABELS, urlFromForm } from './state/runForm';
import { useDatasetStore } from './state/datasetStore';
import { TaskSwitch } from './components/TaskSwitch';
import { PresetsMenu } from './components/PresetsMenu';
import { SeqFormPanel } from './components/SeqFormPanel';
import { SeqDashboard } from './components/SeqDashboard';
import { useSeqStore } from './state/seqStore';
import { urlFromSeqForm, withoutSeqParams } from './state/seqForm';
import { seqController } from './state/seqController';
import { useSeqPlan } from './state/useSeqPlan';

/**
 * Keeps the URL in step with the form of the task shown, so a link reproduces a run's settings
 * (the sequence task's link says `task=seq`).
 */
function useFormInUrl() {
  const form = useLabStore((s) => s.form);
  const task = useSeqStore((s) => s.task);
  const seqForm = useSeqStore((s) => s.form);
  useEffect(() => {
    const search =
      task === 'seq'
        ? urlFromSeqForm(seqForm, location.search)
        : urlFromForm(form, withoutSeqParams(location.search));
    if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}`);
  }, [form, task, seqForm]);
}

/** Asks the engine to describe the synthetic slice whenever its settings change and are valid. */
function useSyntheticPreview() {
  const form = useLabStore((s) => s.form);
  const ctrTask = useSeqStore((s) => s.task === 'ctr');
  const { config, errors } = useMemo(() => configFromForm(form), [form]);
  const dataKey = JSON.stringify(config.data);
  const valid = !Object.keys(errors).some((k) => k.startsWith('data.'));
  useEffect(() => {
    if (ctrTask && valid && config.source === 'synthetic')
      runController.previewData(JSON.parse(dataKey));
  }, [ctrTask, dataKey, valid, config.source]);
}

/**
 * Asks the engine to describe the sequences the sequence form names (items, their frequencies,
 * the most-popular baseline) whenever they change and are valid, and again after a run.
 */
function useSeqPreview() {
  const seqTask = useSeqStore((s) => s.task === 'seq');
  const seqIdle = useSeqStore((s) => !isRunActive(s.run.state));
  const ctrIdle = useLabStore((s) => !isRunActive(s.run.state));
  const engineReady = useLabStore((s) => s.engineStatus === 'ready');
  const { config, dataKey, dataValid } = useSeqPlan();
  const source = config.source;
  const dataJson = JSON.stringify(config.data);
  useEffect(() => {
    if (seqTask && dataValid && seqIdle && ctrIdle && engineReady)
      seqController.preview({ source, data: JSON.parse(dataJson) }, dataKey);
  }, [seqTask, dataValid, seqIdle, ctrIdle, engineReady, source, dataJson, dataKey]);
}

/** Asks the engine to describe the model Train would build whenever the settings change. */
function useModelPreview() {
  const form = useLabStore((s) => s.form);
  const ctrTask = useSeqStore((s) => s.task === 'ctr');
  const loaded = useDatasetStore((s) => s.loaded);
  const engineReady = useLabStore((s) => s.engineStatus === 'ready');
  // Not while a run trains (it would build a second model beside it); again once it ends.
  const runIdle = useLabStore((s) => !isRunActive(s.run.state));
  const { config, errors } = useMemo(() => configFromForm(form), [form]);
  const key = JSON.stringify(config);
  const valid = Object.keys(errors).length === 0;
  const modelLabel = MODEL_LABELS[config.train.model];
  // `loaded` is a new object after every load, so another file gets its own preview.
  useEffect(() => {
    if (ctrTask && valid && engineReady && runIdle)
      runController.describeModel(JSON.parse(key), modelLabel);
  }, [ctrTask, key, valid, engineReady, runIdle, modelLabel, loaded]);
}

/** URL values that were not valid are named once, with the defaults used instead. */
function useUrlNotices() {
  useEffect(() => {
    const { urlNotices, showBanner } = useLabStore.getState();
    const notices = [...urlNotices, ...useSeqStore.getState().urlNotices];
    if (notices.length > 0)
      showBanner('error', `Some link settings were not valid: ${notices.join('; ')}`);
  }, []);
}

/**
 * The app's store-driven effects, in a component of their own that draws nothing: they read the
 * form and the runs' states, and a change of those re-renders this component only, not the whole
 * page under App (a run's start used to re-render every panel in the click on Train).
 */
function LabEffects() {
  useUrlNotices();
  useFormInUrl();
  useSyntheticPreview();
  useModelPreview();
  useSeqPreview();
  useEffect(() => {
    runController.startEngine();
  }, []);
  return null;
}

export function App() {
  const task = useSeqStore((s) => s.task);
  return (
    <div className="lab">
      <EngineHeader />
      <ErrorBanner />
      <div className="lab-body">
        <aside>
          <PresetsMenu />
          <TaskSwitch />
          <DatasetLoader />
          {task === 'seq' ? <SeqFormPanel /> : <RunFormPanel />}
          <ModelFilePanel />
        </aside>
        {task === 'seq' ? <SeqDashboard /> : <Dashboard />}
        <ChartWarmup />
      </div>
      {/* Last: its effects (the engine's start among them) run after every panel's, as when
          they were App's own. */}
      <LabEffects />
    </div>
  );
}
