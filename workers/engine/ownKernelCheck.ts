/**
 * Checks the lab's own kernels on the active backend against the tfjs kernels they replace, on
 * random inputs: webgpu's column-sum Sum and Mean (webgpuReductions.ts), and the segmented-scan
 * gradient of the row gather (rowLookup.ts, used on webgl; it runs on any backend). Each case
 * reports its largest difference relative to the sum of the absolute values it added up, which
 * bounds a float32 sum's rounding whatever the order. The host tables' Adam kernel
 * (hostAdamKernel.ts, WebAssembly SIMD, any backend) is checked against the JavaScript loops it
 * replaces: it must be there and give the same numbers bit for bit (relativeDiff 0; Infinity
 * when this engine cannot run it).
 */
import * as tf from '@tensorflow/tfjs';
import { setWebGpuReductions, webGpuReductionsEnabled } from '../models/webgpuReductions';
import { planSegmentSum, segmentSumRows } from '../embedding/rowLookup';
import type { OwnKernelCheck } from '../protocol';
import { Rng } from '../rng';
import { BatchPlanner } from '../embedding/batchPlan';
import { DEFAULT_SPARSE_OPTIMIZER, HostEmbeddingTable } from '../embedding/hostEmbeddingTable';
import {
  hostAdamKernelAvailable,
  hostAdamKernelEnabled,
  setHostAdamKernel,
} from '../embedding/hostAdamKernel';

interface ReductionCase {
  shape: number[];
  axes: number[] | null;
  keepDims: boolean;
}

const REDUCTIONS: ReductionCase[] = [
  { shape: [1024, 400], axes: [0], keepDims: false }, // a bias gradient, BatchNorm's moments
  { shape: [1024, 39, 24], axes: [1], keepDims: false }, // FM's sum over fields
  { shape: [1024, 39], axes: [1], keepDims: true }, // the last axis
  { shape: [70_000, 3], axes: [0], keepDims: false }, // several passes
  { shape: [3, 70_000], axes: [-1], keepDims: false }, // long and innermost: tfjs's kernel
  { shape: [200, 30], axes: null, keepDims: false }, // everything, to a scalar (tfjs's kernel)
  { shape: [8, 6], axes: null, keepDims: false }, // everything, to a scalar
  { shape: [20, 30, 40], axes: [0, 1], keepDims: true },
  { shape: [5, 6, 7], axes: [0, 2], keepDims: false }, // not consecutive: tfjs's kernel
  { shape: [1], axes: [0], keepDims: false },
];

function randomTensor(shape: number[], rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => rng.normal()),
    shape,
  );
}

/** Largest |a - b| over the largest `bound` (both flat, same length). */
function relativeDiff(a: ArrayLike<number>, b: ArrayLike<number>, bound: ArrayLike<number>) {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(bound[i]));
  }
  return diff / Math.max(scale, Number.MIN_VALUE);
}

async function checkReductions(rng: Rng): Promise<OwnKernelCheck[]> {
  const own = webGpuReductionsEnabled();
  const out: OwnKernelCheck[] = [];
  try {
    for (const c of REDUCTIONS) {
      const x = randomTensor(c.shape, rng);
      const axis = c.axes ?? undefined;
      for (const op of ['sum', 'mean'] as const) {
        const reduce = (t: tf.Tensor) =>
          op === 'sum' ? tf.sum(t, axis, c.keepDims) : tf.mean(t, axis, c.keepDims);
        setWebGpuReductions(false);
        const stock = reduce(x);
        const bound = reduce(tf.abs(x));
        setWebGpuReductions(true);
        const mine = reduce(x);
        const sameShape = mine.shape.join(',') === stock.shape.join(',');
        const [a, b, l1] = await Promise.all([mine.data(), stock.data(), bound.data()]);
        out.push({
          kernel: op === 'sum' ? 'Sum' : 'Mean',
          case: `[${c.shape.join(', ')}] over ${c.axes ? `[${c.axes.join(', ')}]` : 'all'}${c.keepDims ? ', keepDims' : ''}`,
          relativeDiff: sameShape
            ? relativeDiff(a as Float32Array, b as Float32Array, l1 as Float32Array)
            : Number.POSITIVE_INFINITY,
        });
        tf.dispose([stock, bound, mine]);
      }
      x.dispose();
    }
  } finally {
    setWebGpuReductions(own);
  }
  return out;
}

async function checkSegmentSums(rng: Rng): Promise<OwnKernelCheck[]> {
  const out: OwnKernelCheck[] = [];
  for (const [rows, n, d] of [
    [3000, 6656, 16],
    [40, 1024, 1],
    [1, 300, 24],
  ]) {
    // Zipf-like: a few rows take most positions, a few are never used.
    const index = Int32Array.from({ length: n }, () =>
      Math.min(rows - 1, Math.floor(Math.exp(rng.next() * Math.log(rows + 1))) - 1),
    );
    const values = randomTensor([n, d], rng) as tf.Tensor2D;
    const idx = tf.tensor2d(index, [n, 1], 'int32');
    const stock = tf.scatterND(idx, values, [rows, d]);
    const bound = tf.scatterND(idx, tf.abs(values), [rows, d]);
    const mine = segmentSumRows(values, planSegmentSum(index, rows));
    const [a, b, l1] = await Promise.all([mine.data(), stock.data(), bound.data()]);
    out.push({
      kernel: 'segment sum (gather gradient)',
      case: `${n} rows of ${d} into ${rows}`,
      relativeDiff: relativeDiff(a as Float32Array, b as Float32Array, l1 as Float32Array),
    });
    tf.dispose([values, idx, stock, bound, mine]);
  }
  return out;
}

/**
 * One table's weights after `steps` Adam steps on `rows` rows of `d` (random batches, weight
 * decay), with the kernel on or off: 'exact' (batch rows and decay-only runs), or 'lazy' with
 * every batch row caught up first (gaps long enough for the catch-up's blocks).
 */
function hostAdamRun(mode: 'lazy' | 'exact', d: number, kernel: boolean): Float32Array {
  const rows = 300;
  const steps = 60;
  setHostAdamKernel(kernel);
  const table = new HostEmbeddingTable(
    'check',
    rows,
    d,
    { ...DEFAULT_SPARSE_OPTIMIZER, mode, learningRate: 0.01, weightDecay: 0.05 },
    { kind: 'uniform', bound: 0.5 },
    new Rng(3),
  );
  table.keepStepHistory();
  const planner = new BatchPlanner(rows);
  const last = new Int32Array(rows);
  const rng = new Rng(5);
  for (let step = 1; step <= steps; step++) {
    const ids = Int32Array.from({ length: 20 }, () => Math.floor(rows * rng.next() ** 3));
    const plan = planner.plan(ids);
    if (mode === 'lazy') {
      for (const row of plan.uniqueRows) table.catchUpDecay(row, last[row] + 1, step - 1);
      for (const row of plan.uniqueRows) last[row] = step;
    }
    const grad = Float32Array.from({ length: plan.uniqueRows.length * d }, () => rng.normal());
    table.applyGradient(plan, grad);
  }
  return table.weights.slice();
}

function checkHostAdam(): OwnKernelCheck[] {
  const kernel = 'host Adam (WebAssembly SIMD)';
  const was = hostAdamKernelEnabled();
  const out: OwnKernelCheck[] = [];
  try {
    setHostAdamKernel(true);
    if (!hostAdamKernelAvailable()) {
      return [{ kernel, case: 'not available here', relativeDiff: Number.POSITIVE_INFINITY }];
    }
    for (const [mode, d] of [
      ['exact', 16],
      ['lazy', 16],
      ['lazy', 3],
    ] as const) {
      const mine = hostAdamRun(mode, d, true);
      const loops = hostAdamRun(mode, d, false);
      let same = mine.length === loops.length;
      for (let i = 0; same && i < mine.length; i++) same = Object.is(mine[i], loops[i]);
      out.push({
        kernel,
        case: `${mode} updates, rows of ${d}`,
        relativeDiff: same ? 0 : relativeDiff(mine, loops, loops) || Number.MIN_VALUE,
      });
    }
  } finally {
    setHostAdamKernel(was);
  }
  return out;
}

export async function checkOwnKernels(): Promise<OwnKernelCheck[]> {
  const rng = new Rng(7);
  const reductions = tf.getBackend() === 'webgpu' ? await checkReductions(rng) : [];
  return [...reductions, ...(await checkSegmentSums(rng)), ...checkHostAdam()];
}
