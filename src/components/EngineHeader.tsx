import { useState } from 'react';
import { BACKEND_ORDER, isBackendName } from '../../workers/protocol';
import { isRunActive, useLabStore } from '../state/labStore';
import { runController } from '../state/runController';
import { useSeqStore } from '../state/seqStore';
import { formatBytes } from '../format';

/** A software WebGPU/WebGL adapter (SwiftShader) emulates the GPU on the CPU: slow for training. */
function onSoftwareAdapter(backend: string, adapter: string, isFallback: boolean | null): boolean {
  if (backend === 'webgpu') return isFallback === true || /swiftshader/i.test(adapter);
  return backend === 'webgl' && /swiftshader|llvmpipe|software/i.test(adapter);
}

export function EngineHeader() {
  const status = useLabStore((s) => s.engineStatus);
  const info = useLabStore((s) => s.engineInfo);
  const memory = useLabStore((s) => s.memory);
  const runState = useLabStore((s) => s.run.state);
  const [switching, setSwitching] = useState(false);
  const seqRunState = useSeqStore((s) => s.run.state);
  const busy = isRunActive(runState) || isRunActive(seqRunState);
  const software =
    info !== null &&
    onSoftwareAdapter(info.backend, info.adapterDescription, info.isFallbackAdapter);
  const choose = (value: string) => {
    if (!isBackendName(value) || value === info?.backend) return;
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
            value={info?.backend ?? ''}
            disabled={status !== 'ready' || busy || switching}
            title={
              busy ? 'Stop the run to switch backends' : 'Switch the engine to another backend'
            }
            onChange={(e) => choose(e.target.value)}
          >
            {info === null && <option value="">…</option>}
            {BACKEND_ORDER.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </span>
        <span
          className="adapter"
          data-testid="adapter-description"
          title={info?.adapterDescription}
        >
          {info?.adapterDescription ?? '…'}
          {info?.isFallbackAdapter ? ' (software fallback adapter)' : ''}
        </span>
        {software && info?.backend !== 'wasm' && (
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
