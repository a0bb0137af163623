/**
 * Backend start-up: the one forced by the URL, or for "auto" the first that starts in an order
 * that suits the machine (webgpu first on a hardware adapter, wasm first when the only adapter
 * is an emulated one); the run then measures the candidates (backendCalibration.ts).
 * tf.setBackend returns false or throws when a backend cannot start.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { installWebGpuReductions } from '../models/webgpuReductions';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { BACKEND_ORDER, isSoftwareAdapter, type BackendName, type EngineInfo } from '../protocol';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
});

interface WebGpuBackendLike {
  device: GPUDevice;
}

async function describeWebGpuAdapter(): Promise<{
  description: string;
  isFallback: boolean | null;
}> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { description: 'no adapter', isFallback: null };
  // `info` is newer than these typings; older Chromium had requestAdapterInfo() instead.
  const info = (adapter as GPUAdapter & { info: GPUAdapterInfo }).info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (p) => p && p.length > 0,
  );
  const isFallback =
    'isFallbackAdapter' in info
      ? Boolean((info as GPUAdapterInfo & { isFallbackAdapter: boolean }).isFallbackAdapter)
      : null;
  return { description: parts.join(' / ') || 'unnamed adapter', isFallback };
}

/** tfjs's threaded wasm binary pre-creates 8 helper threads: its pool cannot grow past that. */
const MAX_WASM_THREADS = 8;
let wasmThreadsWanted: number | null = null;
let wasmStarted = false;

/**
 * Threads for the wasm backend's kernels (null: every core), used when wasm first starts (tfjs
 * reads it once). Threads need a cross-origin isolated page; without one tfjs loads its
 * single-threaded binary and this has no effect.
 */
export function setWasmThreads(threads: number | null): void {
  if (wasmStarted) return;
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  wasmThreadsWanted = Math.min(MAX_WASM_THREADS, Math.max(1, Math.floor(threads ?? cores)));
  setThreadsCount(wasmThreadsWanted);
}

/**
 * Starts tfjs-wasm with the thread count asked for. Its C++ side caps the pool at
 * navigator.hardwareConcurrency / 2 (read once, when the module is instantiated: "most x86 cores
 * run two hardware threads"), which leaves one thread on a 2-core machine. For that moment the
 * worker's navigator reports twice the wanted count, so the cap is exactly what was asked.
 */
async function startWasmWithThreads(start: () => Promise<EngineInfo>): Promise<EngineInfo> {
  if (wasmStarted || wasmThreadsWanted === null || typeof navigator === 'undefined') {
    return start();
  }
  const wanted = wasmThreadsWanted;
  Object.defineProperty(navigator, 'hardwareConcurrency', {
    configurable: true,
    get: () => 2 * wanted,
  });
  try {
    return await start();
  } finally {
    // The own property shadowed the prototype's getter; removing it restores the real figure.
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
    wasmStarted = true;
  }
}

/** The start-up order for "auto": wasm first when WebGPU's only adapter is an emulated one. */
async function autoOrder(): Promise<readonly BackendName[]> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) return ['wasm', 'webgl', 'cpu'];
  try {
    const { description, isFallback } = await describeWebGpuAdapter();
    if (isFallback === null && description === 'no adapter') return ['wasm', 'webgl', 'cpu'];
    if (isSoftwareAdapter('webgpu', description, isFallback)) {
      return ['wasm', 'webgpu', 'webgl', 'cpu'];
    }
  } catch {
    // fall through to the usual order
  }
  return BACKEND_ORDER;
}

/** Starts exactly `name` (throws with the reason when it cannot) and describes it. */
export async function startBackend(name: BackendName): Promise<EngineInfo> {
  if (name === 'wasm') return startWasmWithThreads(() => describeStarted(name));
  return describeStarted(name);
}

async function describeStarted(name: BackendName): Promise<EngineInfo> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error('did not start');
  await tf.ready();
  // A trivial op proves the backend actually runs kernels.
  const probe = tf.add(tf.scalar(1), tf.scalar(2));
  const v = (await probe.data())[0];
  probe.dispose();
  if (v !== 3) throw new Error(`probe op returned ${v}`);
  let adapterDescription: string;
  let isFallbackAdapter: boolean | null = null;
  let wasmThreads: number | null = null;
  if (name === 'webgpu') {
    installWebGpuReductions();
    const described = await describeWebGpuAdapter();
    adapterDescription = described.description;
    isFallbackAdapter = described.isFallback;
  } else if (name === 'webgl') {
    adapterDescription = describeWebGl();
  } else if (name === 'wasm') {
    wasmThreads = getThreadsCount();
    adapterDescription = `wasm SIMD, ${wasmThreads} thread${wasmThreads === 1 ? '' : 's'}`;
  } else {
    adapterDescription = 'plain JavaScript';
  }
  return {
    backend: name,
    fallbacks: [],
    adapterDescription,
    isFallbackAdapter,
    wasmThreads,
    crossOriginIsolated: typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated,
  };
}

export async function selectBackend(forced: BackendName | null): Promise<EngineInfo> {
  const order = forced ? [forced] : await autoOrder();
  const fallbacks: EngineInfo['fallbacks'] = [];
  for (const name of order) {
    try {
      const info = await startBackend(name);
      return { ...info, fallbacks };
    } catch (err) {
      fallbacks.push({ backend: name, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  const tried = fallbacks.map((f) => `${f.backend}: ${f.reason}`).join('; ');
  throw new Error(`No tfjs backend could start (${tried})`);
}

function describeWebGl(): string {
  try {
    const canvas = new OffscreenCanvas(1, 1);
    const gl = canvas.getContext('webgl2');
    if (!gl) return 'webgl';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = ext
      ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)
      : gl.getParameter(gl.RENDERER);
    return `webgl2 / ${String(renderer)}`;
  } catch {
    return 'webgl';
  }
}

/** The active WebGPU device, when the webgpu backend is active. */
export function activeWebGpuDevice(): GPUDevice | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as WebGpuBackendLike).device ?? null;
}
