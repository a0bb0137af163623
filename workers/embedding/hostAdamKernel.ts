/**
 * A host table's weights and Adam moments in WebAssembly memory, updated by hostAdam.wat: the
 * same float32 arithmetic as the table's JavaScript loops, four entries at a time (SIMD), so the
 * results are the same bit for bit and the divider and square root, which bound Adam's step on
 * the host, do a quarter as many operations.
 *
 * Each table gets a memory of its own, sized once (never grown: a grown memory would detach the
 * arrays' views): a small scratch area (the step coefficients, a catch-up's block plan, one
 * row's gradient) and the three arrays. Where WebAssembly SIMD is missing, or the table does not
 * fit in 4 GiB, the table keeps plain arrays and its JavaScript loops.
 */
import type { SparseOptimizerConfig } from './hostEmbeddingTable';
import { HOST_ADAM_WASM_BASE64 } from './hostAdamWasm';

/** Decay-only steps one call replays at most (the step coefficients' room). */
export const KERNEL_MAX_STEPS = 32;

const PAGE_BYTES = 65536;
/** A wasm32 memory holds at most 65,536 pages (4 GiB). */
const MAX_PAGES = 65536;
/** Numbers per block of a catch-up's block plan (HostEmbeddingTable.blockPlan). */
export const BLOCK_FIELDS = 15;
/** Blocks one call catches up at most (their lengths double: 2^64 steps). */
export const KERNEL_MAX_BLOCKS = 64;
/** Rows one count call counts at most (the counts' room). */
export const KERNEL_MAX_COUNT_ROWS = 4096;
/**
 * Byte offsets: the step coefficients (pairs of float64), a block plan, the rows' counts
 * (unsigned 16-bit), one row's gradient.
 */
const COEF_AT = 64;
const PLAN_AT = COEF_AT + KERNEL_MAX_STEPS * 16;
const COUNT_AT = PLAN_AT + KERNEL_MAX_BLOCKS * BLOCK_FIELDS * 8;
const GRAD_AT = COUNT_AT + KERNEL_MAX_COUNT_ROWS * 2;

type AdamKernel = (
  w: number,
  m: number,
  v: number,
  g: number,
  n: number,
  coef: number,
  steps: number,
  wd: number,
  b1: number,
  b2: number,
  eps: number,
) => void;

type BlocksKernel = (
  w: number,
  m: number,
  v: number,
  n: number,
  plan: number,
  blocks: number,
  wd: number,
  eps: number,
) => void;

type CountKernel = (w: number, rows: number, d: number, t: number, out: number) => void;

let enabled = true;
let compiled: WebAssembly.Module | null | undefined;

/** Turns the kernel on or off for tables created from now on (tests compare the two). */
export function setHostAdamKernel(on: boolean): void {
  enabled = on;
}

export function hostAdamKernelEnabled(): boolean {
  return enabled;
}

/** The compiled module, or null where this engine cannot compile it (no WebAssembly SIMD). */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bytes = Uint8Array.from(atob(HOST_ADAM_WASM_BASE64), (c) => c.charCodeAt(0));
      compiled = new WebAssembly.Module(bytes);
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** Whether tables get the kernel here (it is on and this engine compiles it). */
export function hostAdamKernelAvailable(): boolean {
  return enabled && kernelModule() !== null;
}

function alignUp(bytes: number, to: number): number {
  return Math.ceil(bytes / to) * to;
}

export class HostAdamArrays {
  private readonly coef: Float64Array;
  private readonly plan: Float64Array;
  /** The block plan last copied into `plan` (plans are kept for a step and shared by rows). */
  private planCopied: Float64Array | null = null;
  private readonly grad: Float32Array;
  private readonly counts: Uint16Array;

  private constructor(
    memory: WebAssembly.Memory,
    private readonly adam: AdamKernel,
    private readonly blocks: BlocksKernel,
    private readonly count: CountKernel,
    private readonly wAt: number,
    private readonly mAt: number,
    private readonly vAt: number,
    size: number,
    dim: number,
    readonly weights = new Float32Array(memory.buffer, wAt, size),
    readonly m = new Float32Array(memory.buffer, mAt, size),
    readonly v = new Float32Array(memory.buffer, vAt, size),
  ) {
    this.coef = new Float64Array(memory.buffer, COEF_AT, 2 * KERNEL_MAX_STEPS);
    this.plan = new Float64Array(memory.buffer, PLAN_AT, KERNEL_MAX_BLOCKS * BLOCK_FIELDS);
    this.grad = new Float32Array(memory.buffer, GRAD_AT, dim);
    this.counts = new Uint16Array(memory.buffer, COUNT_AT, KERNEL_MAX_COUNT_ROWS);
  }

  /**
   * Weights and moments for `size` entries of rows of `dim`, all zero, or null when the kernel
   * is off or unavailable or the memory cannot be had.
   */
  static allocate(size: number, dim: number): HostAdamArrays | null {
    if (!enabled || size === 0) return null;
    const module = kernelModule();
    if (!module) return null;
    const arrayBytes = alignUp(size * 4, 64);
    const wAt = alignUp(GRAD_AT + dim * 4, 64);
    const pages = Math.ceil((wAt + 3 * arrayBytes) / PAGE_BYTES);
    if (pages > MAX_PAGES) return null;
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch {
      // Address space or the engine's limit on memories: the JavaScript arrays instead.
      return null;
    }
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const { adam, blocks, count } = instance.exports as {
      adam: AdamKernel;
      blocks: BlocksKernel;
      count: CountKernel;
    };
    return new HostAdamArrays(
      memory,
      adam,
      blocks,
      count,
      wAt,
      wAt + arrayBytes,
      wAt + 2 * arrayBytes,
      size,
      dim,
    );
  }

  /**
   * One Adam step of the `n` (at most dim) entries from `start` with loss gradient
   * `grad[gradOffset ..]` plus weight decay.
   */
  step(
    start: number,
    n: number,
    grad: Float32Array,
    gradOffset: number,
    stepSize: number,
    invBc2Sqrt: number,
    o: SparseOptimizerConfig,
  ): void {
    const g = this.grad;
    for (let k = 0; k < n; k++) g[k] = grad[gradOffset + k];
    this.coef[0] = stepSize;
    this.coef[1] = invBc2Sqrt;
    this.run(start, n, GRAD_AT, 1, o);
  }

  /** One decay-only Adam step (gradient weight_decay * w) of entries `start`..`end - 1`. */
  decay(
    start: number,
    end: number,
    stepSize: number,
    invBc2Sqrt: number,
    o: SparseOptimizerConfig,
  ): void {
    this.coef[0] = stepSize;
    this.coef[1] = invBc2Sqrt;
    this.run(start, end - start, 0, 1, o);
  }

  /**
   * The decay-only steps `from`..`to` (at most KERNEL_MAX_STEPS) of entries `start`..`end - 1`,
   * step t with step size `stepSizes[t]` and 1 / sqrt(1 - beta2^t) `invBc2Sqrts[t]`.
   */
  replay(
    start: number,
    end: number,
    from: number,
    to: number,
    stepSizes: Float64Array,
    invBc2Sqrts: Float64Array,
    o: SparseOptimizerConfig,
  ): void {
    const steps = to - from + 1;
    if (steps > KERNEL_MAX_STEPS) {
      throw new Error(`host Adam kernel: ${steps} steps at once, at most ${KERNEL_MAX_STEPS}`);
    }
    const coef = this.coef;
    for (let s = 0; s < steps; s++) {
      coef[2 * s] = stepSizes[from + s];
      coef[2 * s + 1] = invBc2Sqrts[from + s];
    }
    this.run(start, end - start, 0, steps, o);
  }

  /**
   * The kernel's `steps` steps (coefficients already in place) of `n` entries from `start`,
   * with the gradient at byte offset `g` (0: decay only).
   */
  private run(start: number, n: number, g: number, steps: number, o: SparseOptimizerConfig): void {
    const at = start * 4;
    const { weightDecay, beta1, beta2, eps } = o;
    this.adam(
      this.wAt + at,
      this.mAt + at,
      this.vAt + at,
      g,
      n,
      COEF_AT,
      steps,
      weightDecay,
      beta1,
      beta2,
      eps,
    );
  }

  /**
   * For each of the `rows` rows of `dim` weights from entry `start` (at most
   * KERNEL_MAX_COUNT_ROWS), how many are above `t` in magnitude (|w| > t, `t` a float32 value):
   * a view of the kernel's counts, valid until the next call.
   */
  countAbove(start: number, rows: number, dim: number, t: number): Uint16Array {
    if (rows > KERNEL_MAX_COUNT_ROWS) {
      throw new Error(`host Adam kernel: ${rows} rows to count, at most ${KERNEL_MAX_COUNT_ROWS}`);
    }
    this.count(this.wAt + start * 4, rows, dim, t, COUNT_AT);
    return this.counts;
  }

  /**
   * A catch-up's blocks (`plan`: BLOCK_FIELDS numbers per block, as HostEmbeddingTable.blockPlan
   * makes them) for entries `start`..`start + n - 1`, `n` a multiple of four.
   */
  replayBlocks(start: number, n: number, plan: Float64Array, o: SparseOptimizerConfig): void {
    const count = plan.length / BLOCK_FIELDS;
    if (count > KERNEL_MAX_BLOCKS || n % 4 !== 0) {
      throw new Error(`host Adam kernel: ${count} blocks for ${n} entries`);
    }
    if (this.planCopied !== plan) {
      this.plan.set(plan);
      this.planCopied = plan;
    }
    const at = start * 4;
    this.blocks(
      this.wAt + at,
      this.mAt + at,
      this.vAt + at,
      n,
      PLAN_AT,
      count,
      o.weightDecay,
      o.eps,
    );
  }
}
