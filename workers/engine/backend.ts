/**
 * Backend selection: walk webgpu -> webgl -> wasm -> cpu (or just the one forced by the URL) and
 * keep the first that starts. tf.setBackend returns false or throws when a backend cannot start.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { BACKEND_ORDER, type BackendName, type EngineInfo } from '../protocol';

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

export async function selectBackend(forced: BackendName | null): Promise<EngineInfo> {
  const order = forced ? [forced] : BACKEND_ORDER;
  const fallbacks: EngineInfo['fallbacks'] = [];
  for (const name of order) {
    try {
      const ok = await tf.setBackend(name);
      if (!ok) {
        fallbacks.push({ backend: name, reason: 'did not start' });
        continue;
      }
      await tf.ready();
      // A trivial op proves the backend actually runs kernels.
      const probe = tf.add(tf.scalar(1), tf.scalar(2));
      const v = (await probe.data())[0];
      probe.dispose();
      if (v !== 3) throw new Error(`probe op returned ${v}`);
      let adapterDescription: string = name;
      let isFallbackAdapter: boolean | null = null;
      if (name === 'webgpu') {
        const described = await describeWebGpuAdapter();
        adapterDescription = described.description;
        isFallbackAdapter = described.isFallback;
      } else if (name === 'webgl') {
        adapterDescription = describeWebGl();
      } else if (name === 'wasm') {
        // Threads need a cross-origin isolated page; the lab is served without COOP/COEP
        // because a bundled (minified) tfjs wasm cannot start its thread workers.
        const threads = getThreadsCount();
        adapterDescription = `wasm SIMD, ${threads} thread${threads === 1 ? '' : 's'}`;
      } else {
        adapterDescription = 'plain JavaScript';
      }
      return { backend: name, fallbacks, adapterDescription, isFallbackAdapter };
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
