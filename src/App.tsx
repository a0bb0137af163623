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

/** Keeps the URL in step with the form, so a link reproduces a run's settings. */
function useFormInUrl() {
  const form = useLabStore((s) => s.form);
  useEffect(() => {
    const search = urlFromForm(form, location.search);
    if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}`);
  }, [form]);
}

/** Asks the engine to describe the synthetic slice whenever its settings change and are valid. */
function useSyntheticPreview() {
  const form = useLabStore((s) => s.form);
  const { config, errors } = useMemo(() => configFromForm(form), [form]);
  const dataKey = JSON.stringify(config.data);
  const valid = !Object.keys(errors).some((k) => k.startsWith('data.'));
  useEffect(() => {
    if (valid && config.source === 'synthetic') runController.previewData(JSON.parse(dataKey));
  }, [dataKey, valid, config.source]);
}

/** Asks the engine to describe the model Train would build whenever the settings change. */
function useModelPreview() {
  const form = useLabStore((s) => s.form);
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
    if (valid && engineReady && runIdle) runController.describeModel(JSON.parse(key), modelLabel);
  }, [key, valid, engineReady, runIdle, modelLabel, loaded]);
}

/** URL values that were not valid are named once, with the defaults used instead. */
function useUrlNotices() {
  useEffect(() => {
    const { urlNotices, showBanner } = useLabStore.getState();
    if (urlNotices.length > 0)
      showBanner('error', `Some link settings were not valid: ${urlNotices.join('; ')}`);
  }, []);
}

export function App() {
  useUrlNotices();
  useFormInUrl();
  useSyntheticPreview();
  useModelPreview();
  useEffect(() => {
    runController.startEngine();
  }, []);
  return (
    <div className="lab">
      <EngineHeader />
      <ErrorBanner />
      <div className="lab-body">
        <aside>
          <DatasetLoader />
          <RunFormPanel />
          <ModelFilePanel />
        </aside>
        <Dashboard />
        <ChartWarmup />
      </div>
    </div>
  );
}
