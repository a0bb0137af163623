import { useLabStore } from '../state/labStore';
import { formatBytes } from '../format';

export function EngineHeader() {
  const status = useLabStore((s) => s.engineStatus);
  const info = useLabStore((s) => s.engineInfo);
  const memory = useLabStore((s) => s.memory);
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
          backend <strong data-testid="backend-name">{info?.backend ?? '…'}</strong>
        </span>
        <span
          className="adapter"
          data-testid="adapter-description"
          title={info?.adapterDescription}
        >
          {info?.adapterDescription ?? '…'}
          {info?.isFallbackAdapter ? ' (software fallback adapter)' : ''}
        </span>
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
      </div>
    </header>
  );
}
