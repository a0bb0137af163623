import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ErrorBoundary } from './components/ErrorBoundary';
import { runController } from './state/runController';
import * as Comlink from 'comlink';
import type { EngineEvent, RunConfig, StepBenchmarkConfig } from '../workers/protocol';
import type { SeqEngineEvent, SeqRunConfig } from '../workers/sequence/seqProtocol';
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

/** Every step's loss and time of the events a run sends (tests, benchmarks). */
function stepCollector() {
  const losses: number[] = [];
  const stepMs: number[] = [];
  const onEvent = Comlink.proxy((event: EngineEvent | SeqEngineEvent) => {
    if (event.type !== 'progress') return;
    losses.push(...event.batch.losses);
    stepMs.push(...event.batch.stepMs);
  });
  return { losses, stepMs, onEvent };
}

// Testing and debugging hooks (used by the end-to-end tests and benchmark scripts).
Object.assign(window, {
  __lab: {
    simulateCrash: () => runController.bridge.call((api) => api.simulateCrash()),
    simulateDeviceLoss: () => runController.bridge.call((api) => api.simulateDeviceLoss()),
    benchmarkSteps: (config: StepBenchmarkConfig) =>
      runController.bridge.call((api) => api.benchmarkSteps(config)),
    checkOwnKernels: () => runController.bridge.call((api) => api.checkOwnKernels()),
    /** Trains outside the dashboard; returns every step's loss and time (tests, benchmarks). */
    trainCollectingLosses: async (config: RunConfig) => {
      const { losses, stepMs, onEvent } = stepCollector();
      const result = await runController.bridge.call((api) => api.train(config, onEvent));
      return { losses, stepMs, result };
    },
    /** The same for a sequence run (NextItNet / CpRec). */
    trainSequencesCollectingLosses: async (config: SeqRunConfig) => {
      const { losses, stepMs, onEvent } = stepCollector();
      const result = await runController.bridge.call((api) => api.trainSequences(config, onEvent));
      return { losses, stepMs, result };
    },
  },
});
