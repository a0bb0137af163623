import { useState } from 'react';
import {
  BACKEND_ORDER,
  isBackendName,
  isSoftwareAdapter,
  type BackendCalibration,
} from '../../workers/protocol';
import { isRunActive, useLabStore } from '../state/labStore';
import { runController } from '../state/runController';
import { useSeqStore } from '../state/seqStore';
import { formatBytes } from '../format';

export function EngineHeader() {
  const status = useLabStore((s) => s.engineStatus);
  const info = useLabStore((s) => s.engineInfo);
  const memory = useLabStore((s) => s.memory);
  const runState = useLabStore((s) => s.run.state);
  const choice = useLabStore((s) => s.backendChoice);
  const [switching, setSwitching] = useState(false);
  const seqRunState = useSeqStore((s) => s.run.state);
  const busy = isRunActive(runState) || isRunActive(seqRunState);
  const software =
    info !== null &&
    isSoftwareAdapter(info.backend, info.adapterDescription, info.isFallbackAdapter);
  const choose = (value: string) => {
    if (value === 'auto') {
      runController.setAutoBackend();
      return;
    }
    if (!isBackendName(value) || (value === info?.backend && choice.mode === value)) return;
    setSwitching(true);
    void runController.switchBackend(value).finally(() => setSwitching(false));
  };
  const fallbackNote = info?.fallbacks.length
    ? `Tried first: ${info.fallbacks.map((f) => `${f.backend} (${f.reason})`).join(', ')}`
    : undefined;
  return (
    <header className="lab-header">
      <h1>RecSys Compression Lab</h1>
      <div className="engine-facts">
        <span className={`badge badge-${status}`} data-testid="engine-status">
          {status === 'ready' ? 'engine ready' : `engine ${status}`}
        </span>
        <span title={fallbackNote}>
          backend <strong data-testid="backend-name">{info?.backend ?? '…'}</strong>{' '}
          <select
            aria-label="Switch backend"
            data-testid="backend-select"
            value={choice.mode}
            disabled={status !== 'ready' || busy || switching}
            title={
              busy
                ? 'Stop the run to switch backends'
                : 'auto: each model is timed on every backend once and trains on the fastest; or force one'
            }
            onChange={(e) => choose(e.target.value)}
          >
            <option value="auto">auto</option>
            {BACKEND_ORDER.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </span>
        {choice.measuring && (
          <span className="hint" data-testid="backend-measuring">
            choosing the backend: {choice.measuring}…
          </span>
        )}
        {choice.mode === 'auto' && choice.calibration && (
          <BackendCalibrationTable calibration={choice.calibration} busy={busy} />
        )}
        <span
          className="adapter"
          data-testid="adapter-description"
          title={info?.adapterDescription}
        >
          {info?.adapterDescription ?? '…'}
          {info?.isFallbackAdapter ? ' (software fallback adapter)' : ''}
        </span>
        {software && info?.backend !== 'wasm' && choice.mode !== 'auto' && (
          <span className="hint" data-testid="software-adapter-hint">
            this {info?.backend} adapter emulates the GPU on the CPU; wasm usually trains several
            times faster here{' '}
            <button type="button" disabled={busy || switching} onClick={() => choose('wasm')}>
              use wasm
            </button>
          </span>
        )}
        <span>
          tensors <strong data-testid="memory-tensors">{memory?.numTensors ?? '–'}</strong>
        </span>
        <span>
          tensor memory <strong data-testid="memory-bytes">{formatBytes(memory?.numBytes)}</strong>
        </span>
        {memory?.numBytesInGPU !== null && memory?.numBytesInGPU !== undefined && (
          <span>
            GPU <strong data-testid="memory-gpu">{formatBytes(memory.numBytesInGPU)}</strong>
          </span>
        )}
        <span>
          host tables{' '}
          <strong data-testid="memory-host">{formatBytes(memory?.hostEmbeddingBytes)}</strong>
        </span>
        <KeptRunsMenu />
      </div>
    </header>
  );
}

/**
 * Finished runs keep their models in the worker (for evaluation, retraining and export): what
 * they hold, and a way to free them.
 */
function KeptRunsMenu() {
  const kept = useLabStore((s) => s.keptRuns);
  const total = kept.reduce((a, r) => a + r.bytes, 0);
  return (
    <details className="kept-runs" data-testid="kept-runs">
      <summary title="Models of finished runs, kept in the engine until you free them">
        kept models{' '}
        <strong data-testid="kept-runs-bytes" data-count={kept.length}>
          {kept.length} · {formatBytes(total)}
        </strong>
      </summary>
      {kept.length === 0 ? (
        <p className="muted">No finished run holds a model.</p>
      ) : (
        <ul>
          {kept.map((r) => (
            <li key={r.runId} data-testid={`kept-run-${r.runId}`}>
              <span>
                #{r.runId} {r.label} · {formatBytes(r.bytes)}
              </span>
              <button type="button" onClick={() => void runController.discardRun(r.runId)}>
                free
              </button>
            </li>
          ))}
          {kept.length > 1 && (
            <li>
              <button
                type="button"
                data-testid="free-all-runs"
                onClick={() => kept.forEach((r) => void runController.discardRun(r.runId))}
              >
                free all
              </button>
            </li>
          )}
        </ul>
      )}
    </details>
  );
}

/** The measurement behind auto's choice: one line per backend, the chosen one marked. */
function BackendCalibrationTable({
  calibration,
  busy,
}: {
  calibration: BackendCalibration & { remembered: boolean };
  busy: boolean;
}) {
  const when = new Date(calibration.measuredAt).toLocaleString();
  return (
    <details className="calibration" data-testid="backend-calibration">
      <summary>
        auto chose <strong data-testid="calibration-chosen">{calibration.chosen}</strong>
        {calibration.remembered ? ' (remembered)' : ''}
      </summary>
      <div className="calibration-body">
        <p>
          This model&apos;s training step (batch {calibration.batchSize}) timed on each backend
          {calibration.remembered
            ? `, ${when}`
            : ` in ${(calibration.totalMs / 1000).toFixed(1)} s`}
          .
        </p>
        <table>
          <thead>
            <tr>
              <th>backend</th>
              <th>ms/step</th>
              <th>samples/s</th>
              <th>adapter</th>
              <th>note</th>
            </tr>
          </thead>
          <tbody>
            {calibration.rows.map((r) => (
              <tr
                key={r.backend}
                data-testid={`calibration-row-${r.backend}`}
                className={r.backend === calibration.chosen ? 'chosen' : undefined}
              >
                <td>{r.backend}</td>
                <td>{r.msPerStep === null ? statusText(r.status) : r.msPerStep.toFixed(1)}</td>
                <td>
                  {r.samplesPerSecond === null
                    ? '–'
                    : Math.round(r.samplesPerSecond).toLocaleString()}
                </td>
                <td>
                  {r.adapterDescription || '–'}
                  {r.softwareAdapter ? ' (software adapter)' : ''}
                </td>
                <td className="muted" data-testid={`calibration-note-${r.backend}`}>
                  {r.note || ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <button
          type="button"
          disabled={busy}
          onClick={() => runController.measureBackendsAgain()}
          title="Forget this measurement: the next run of this model times every backend again"
        >
          measure again
        </button>
      </div>
    </details>
  );
}

function statusText(status: BackendCalibration['rows'][number]['status']): string {
  if (status === 'slower') return 'slower';
  if (status === 'failed') return 'failed';
  return '–';
}
