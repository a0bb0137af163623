/**
 * Lets tfjs-backend-wasm's threaded binary start from the production build.
 *
 * With threads, tfjs hands its helper threads (Emscripten pthread workers) the JavaScript glue as
 * a Blob built from `wasmFactoryThreadedSimd.toString()`: the source text of one function, taken
 * out of the bundle. Once the bundle is minified that function refers to names defined elsewhere
 * in the bundle, and every helper thread dies with `ReferenceError: e is not defined`, so the
 * engine never becomes ready. This plugin replaces that expression with the glue file as shipped
 * (`wasm-out/tfjs-backend-wasm-threaded-simd.js`, imported as text), a self-contained classic
 * script that defines the same global. The build fails loudly if tfjs's code no longer has the
 * expression (e.g. after an upgrade), rather than shipping a lab whose threads silently fail.
 */
import type { Plugin } from 'vite';

const TARGET = /@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/;
const BLOB_SOURCE =
  /`var WasmBackendModuleThreadedSimd = `\s*\+\s*wasmFactoryThreadedSimd\.toString\(\)/;
const GLUE_IMPORT =
  "import __threadedSimdGlue from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';\n";

export function threadedWasmGlue(): Plugin {
  return {
    name: 'recsys-lab:threaded-wasm-glue',
    enforce: 'pre',
    transform(code, id) {
      if (!TARGET.test(id.split('?')[0])) return null;
      if (!BLOB_SOURCE.test(code)) {
        this.error(
          'tfjs-backend-wasm no longer builds its thread glue from wasmFactoryThreadedSimd.toString(); ' +
            'update scripts/vite/threadedWasm.ts for this tfjs version',
        );
      }
      return { code: GLUE_IMPORT + code.replace(BLOB_SOURCE, '__threadedSimdGlue'), map: null };
    },
  };
}

/**
 * Cross-origin isolation: wasm threads need SharedArrayBuffer, which browsers only give to pages
 * served with these two headers (a static host must send them on every file of the lab).
 */
export const CROSS_ORIGIN_ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;
