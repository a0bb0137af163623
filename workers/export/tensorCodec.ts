/**
 * Typed arrays <-> base64 of their little-endian bytes, in Node, browsers and workers alike
 * (btoa / atob only; no Buffer, no DOM). The lab's platforms are little-endian; a big-endian host
 * is refused rather than silently writing the wrong byte order.
 */
import type { EncodedTensor, TensorDtype } from './modelFormat';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function requireLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new Error('model files are little-endian; this host is big-endian');
}

export function bytesPerElement(dtype: TensorDtype): number {
  return dtype === 'uint8' ? 1 : 4;
}

/** Base64 of bytes, in chunks (String.fromCharCode takes a bounded number of arguments). */
export function toBase64(bytes: Uint8Array): string {
  const chunk = 0x8000;
  let binary = '';
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** The length a base64 text of `bytes` bytes has (with padding). */
export function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

export function fromBase64(text: string, expectedBytes: number): Uint8Array {
  if (text.length !== base64Length(expectedBytes)) {
    throw new Error(
      `holds ${text.length} base64 characters, ${base64Length(expectedBytes)} expected for ${expectedBytes} bytes`,
    );
  }
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new Error('is not valid base64');
  }
  if (binary.length !== expectedBytes) {
    throw new Error(`decodes to ${binary.length} bytes, ${expectedBytes} expected`);
  }
  const out = new Uint8Array(expectedBytes);
  for (let i = 0; i < expectedBytes; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function encodeTensor(
  dtype: TensorDtype,
  shape: number[],
  values: Float32Array | Uint8Array | Int32Array,
): EncodedTensor {
  requireLittleEndian();
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) {
    throw new Error(`tensor of shape [${shape}] needs ${size} values, got ${values.length}`);
  }
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { dtype, shape: [...shape], data: toBase64(bytes) };
}

export function decodeTensor(t: EncodedTensor): Float32Array | Uint8Array | Int32Array {
  requireLittleEndian();
  const size = t.shape.reduce((a, b) => a * b, 1);
  const bytes = fromBase64(t.data, size * bytesPerElement(t.dtype));
  if (t.dtype === 'uint8') return bytes;
  return t.dtype === 'float32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
}
