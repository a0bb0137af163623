import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ErrorBoundary } from './components/ErrorBoundary';
import { runController } from './state/runController';
import type { StepBenchmarkConfig } from '../workers/protocol';
import './styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <App />
    </ErrorBoundary>
  </StrictMode>,
);

// Testing and debugging hooks (used by the end-to-end tests): crash the engine, lose the device.
Object.assign(window, {
  __lab: {
    simulateCrash: () => runController.bridge.call((api) => api.simulateCrash()),
    simulateDeviceLoss: () => runController.bridge.call((api) => api.simulateDeviceLoss()),
    benchmarkSteps: (config: StepBenchmarkConfig) =>
      runController.bridge.call((api) => api.benchmarkSteps(config)),
  },
});
