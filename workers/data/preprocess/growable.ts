/**
 * Append-only typed arrays that grow by 1.5x (not 2x) so that the final trim (`toArray`) keeps
 * the peak at about 2.5x the result rather than 3x. Parsers append row after row into these;
 * nothing per row is kept as a JS object.
 */
export class GrowableInt32 {
  private buf: Int32Array;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Int32Array(Math.max(16, initialCapacity));
  }

  /** Makes room for `extra` more values and returns the backing array (valid until next call). */
  reserve(extra: number): Int32Array {
    const need = this.length + extra;
    if (need > this.buf.length) {
      const next = new Int32Array(Math.max(need, Math.ceil(this.buf.length * 1.5)));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    return this.buf;
  }

  push(v: number): void {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = v;
  }

  /** The live backing array; only the first `length` values are meaningful. */
  get array(): Int32Array {
    return this.buf;
  }

  /**
   * The first `length` values: a copy when the buffer has much slack, else a view. Drop this
   * object afterwards so that a larger buffer can be collected.
   */
  toArray(): Int32Array {
    return trimmed(this.buf, this.length);
  }
}

export class GrowableFloat32 {
  private buf: Float32Array;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Float32Array(Math.max(16, initialCapacity));
  }

  reserve(extra: number): Float32Array {
    const need = this.length + extra;
    if (need > this.buf.length) {
      const next = new Float32Array(Math.max(need, Math.ceil(this.buf.length * 1.5)));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    return this.buf;
  }

  push(v: number): void {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = v;
  }

  get array(): Float32Array {
    return this.buf;
  }

  toArray(): Float32Array {
    return trimmed(this.buf, this.length);
  }
}

/** Float64 because times such as unix seconds or YYMMDDHH need more than float32's 24 bits. */
export class GrowableFloat64 {
  private buf: Float64Array;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Float64Array(Math.max(16, initialCapacity));
  }

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(Math.ceil(this.buf.length * 1.5));
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  get array(): Float64Array {
    return this.buf;
  }

  toArray(): Float64Array {
    return trimmed(this.buf, this.length);
  }
}

/**
 * A right-sized copy, unless the buffer is (nearly) full: buffers sized up front from the file
 * size end up a few percent too large, and copying the largest array of a load (the ids) just to
 * drop that slack would double the peak memory for a moment. A view keeps at most 1/16 unused.
 */
function trimmed<T extends Int32Array | Float32Array | Float64Array>(buf: T, length: number): T {
  if (buf.length - length <= buf.length >>> 4) return buf.subarray(0, length) as T;
  return buf.slice(0, length) as T;
}
