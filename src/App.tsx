import { useEffect } from 'react';
import { EngineHeader } from './components/EngineHeader';
import { ErrorBanner } from './components/ErrorBanner';
import { RunFormPanel } from './components/RunFormPanel';
import { Dashboard } from './components/Dashboard';
import { runController } from './state/runController';
import { useLabStore } from './state/labStore';
import { urlFromForm } from './state/runForm';

/** Keeps the URL in step with the form, so a link reproduces a run's settings. */
function useFormInUrl() {
  const form = useLabStore((s) => s.form);
  useEffect(() => {
    const search = urlFromForm(form, location.search);
    if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}`);
  }, [form]);
}

export function App() {
  useFormInUrl();
  useEffect(() => {
    runController.startEngine();
  }, []);
  return (
    <div className="lab">
      <EngineHeader />
      <ErrorBanner />
      <div className="lab-body">
        <aside>
          <RunFormPanel />
        </aside>
        <Dashboard />
      </div>
    </div>
  );
}
