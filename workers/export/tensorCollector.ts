/**
 * Gathers the tensors of a model file while the model and its embedding describe themselves:
 * host arrays as they are, device variables read once at the end (await data(), never a
 * synchronous read).
 */
import type * as tf from '@tensorflow/tfjs';
import type { EncodedTensor, TensorDtype, TensorRef } from './modelFormat';
import { encodeTensor } from './tensorCodec';

type Source = tf.Variable | tf.Tensor | Float32Array | Uint8Array | Int32Array;

/** A tensor's values on the host, as a model file will store them. */
export interface HostTensor {
  dtype: TensorDtype;
  shape: number[];
  values: Float32Array | Uint8Array | Int32Array;
}

interface Entry {
  dtype: TensorDtype;
  shape: number[];
  source: Source;
  /** A device tensor made for the export: freed once read. */
  owned: boolean;
}

export class TensorCollector {
  private readonly entries = new Map<string, Entry>();

  /**
   * Registers a tensor under a unique name and returns that name (the file's reference).
   * `owned`: a device tensor made for the export, freed once it has been read.
   */
  put(
    name: string,
    source: Source,
    shape?: number[],
    dtype: TensorDtype = 'float32',
    owned = false,
  ): TensorRef {
    if (this.entries.has(name)) throw new Error(`export: tensor "${name}" registered twice`);
    const s = shape ?? (ArrayBuffer.isView(source) ? [source.length] : [...source.shape]);
    this.entries.set(name, { dtype, shape: s, source, owned });
    return name;
  }

  /** Bytes of the registered tensors (decoded). */
  get bytes(): number {
    let total = 0;
    for (const e of this.entries.values()) {
      total += e.shape.reduce((a, b) => a * b, 1) * (e.dtype === 'uint8' ? 1 : 4);
    }
    return total;
  }

  /** Frees the device tensors made for the export (also when it is abandoned). */
  dispose(): void {
    for (const e of this.entries.values()) {
      if (e.owned && !ArrayBuffer.isView(e.source)) e.source.dispose();
    }
  }

  /**
   * Host copies of the registered tensors, by name (host arrays copied, device ones read once):
   * the weights as they are now, to be exported later (a snapshot of a run).
   */
  async copy(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    try {
      for (const [name, e] of this.entries) {
        // Copied, device reads too: the cpu backend's data() is the tensor's own store.
        const source = ArrayBuffer.isView(e.source)
          ? e.source
          : ((await e.source.data()) as Float32Array | Int32Array | Uint8Array);
        out.set(name, { dtype: e.dtype, shape: [...e.shape], values: source.slice() });
      }
    } finally {
      this.dispose();
    }
    return out;
  }

  /**
   * Writes `copies` (from copy(), of a model of the same architecture) in place of every
   * registered tensor: the file then holds those weights. Every registered name must be there,
   * with the same dtype and shape.
   */
  substitute(copies: ReadonlyMap<string, HostTensor>, what: string): void {
    for (const [name, e] of this.entries) {
      const copy = copies.get(name);
      if (!copy) throw new Error(`export: ${what} holds no weight "${name}"`);
      if (copy.dtype !== e.dtype || copy.shape.join(',') !== e.shape.join(',')) {
        throw new Error(
          `export: ${what}'s weight "${name}" is ${copy.dtype} [${copy.shape}], the model's ${e.dtype} [${e.shape}]`,
        );
      }
      if (e.owned && !ArrayBuffer.isView(e.source)) e.source.dispose();
      this.entries.set(name, { ...e, source: copy.values, owned: false });
    }
  }

  async encode(): Promise<Record<string, EncodedTensor>> {
    const out: Record<string, EncodedTensor> = {};
    try {
      for (const [name, e] of this.entries) {
        const values = ArrayBuffer.isView(e.source)
          ? e.source
          : ((await e.source.data()) as Float32Array | Int32Array | Uint8Array);
        out[name] = encodeTensor(e.dtype, e.shape, values);
      }
    } finally {
      this.dispose();
    }
    return out;
  }
}
