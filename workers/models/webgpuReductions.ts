/**
 * Sum and Mean over consecutive axes of a float32 tensor on webgpu, as WGSL column sums.
 *
 * Why: tfjs-webgpu reduces along the innermost axis only, so a reduction over axis 0 (a bias
 * gradient, BatchNorm's moments and gradients: [batch, width] -> [width]) first transposes the
 * whole input, then reduces each row in a workgroup that synchronises with barriers. On
 * SwiftShader's WebGPU a [1024, 400] sum over axis 0 took 261 ms, 235 of them in the transpose;
 * the profile of PEP's Criteo DeepFM (scripts/profile-step.ts --browser) put Sum and Mean at 41% of
 * the step. Here the input is read as [outer, rows, inner] (rows: the reduced axes, which must be
 * consecutive) and each invocation sums a block of rows of one (outer, inner) column where the
 * input lies (adjacent invocations read adjacent columns), without shared memory or barriers;
 * further passes add the blocks' partial sums. Same [1024, 400] sum: 3.8 ms.
 *
 * Reductions over axes that are not consecutive, long ones over the innermost axis (which tfjs
 * does without a transpose) and other dtypes go to tfjs's own kernels. The kernels are
 * replaced in the registry once (installWebGpuReductions); setWebGpuReductions(false) sends every
 * call back to tfjs's kernels (to compare).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** Rows one invocation adds up in a pass. */
const ROWS_PER_INVOCATION = 64;
const WORKGROUP = 64;

/**
 * Sums blocks of `rowsPerInvocation` rows of an [outer, rows, inner] input (read as flat):
 * output [outer, ceil(rows / rowsPerInvocation), inner], each value times `scale`.
 */
class ColumnSumProgram implements WebGPUProgram {
  readonly variableNames = ['x'];
  readonly outputShape: number[];
  shaderKey = 'columnSum';
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly size = true;
  readonly uniforms =
    'rows : i32, inner : i32, blocks : i32, rowsPerInvocation : i32, scale : f32,';

  constructor(outputShape: number[]) {
    this.outputShape = outputShape;
    const size = outputShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(size / WORKGROUP), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let column = index % uniforms.inner;
          let block = (index / uniforms.inner) % uniforms.blocks;
          let outer = index / (uniforms.inner * uniforms.blocks);
          let first = block * uniforms.rowsPerInvocation;
          let last = min(first + uniforms.rowsPerInvocation, uniforms.rows);
          let base = outer * uniforms.rows * uniforms.inner + column;
          var sum = 0.0;
          for (var r = first; r < last; r = r + 1) {
            sum = sum + x[base + r * uniforms.inner];
          }
          setOutputAtIndex(index, sum * uniforms.scale);
        }
      }
    `;
  }
}

type Uniform = { type: 'int32' | 'float32'; data: number[] };

function runColumnSum(
  backend: WebGPUBackend,
  x: tf.TensorInfo,
  view: ReductionView,
  outputShape: number[],
  scale: number,
): tf.TensorInfo {
  const { outer, inner } = view;
  let input = x;
  let remaining = view.rows;
  const partials: tf.TensorInfo[] = [];
  // Passes of at most ROWS_PER_INVOCATION rows each, until one row of sums is left.
  for (;;) {
    const blocks = Math.ceil(remaining / ROWS_PER_INVOCATION);
    const last = blocks === 1;
    const program = new ColumnSumProgram(last ? outputShape : [outer, blocks, inner]);
    const uniforms: Uniform[] = [
      { type: 'int32', data: [remaining] },
      { type: 'int32', data: [inner] },
      { type: 'int32', data: [blocks] },
      { type: 'int32', data: [ROWS_PER_INVOCATION] },
      { type: 'float32', data: [last ? scale : 1] },
    ];
    const out = backend.runWebGPUProgram(program, [input], 'float32', uniforms);
    if (last) {
      for (const p of partials) backend.disposeData(p.dataId);
      return out;
    }
    partials.push(out);
    input = out;
    remaining = blocks;
  }
}

/** A reduction read as [outer, rows, inner], summed over rows. */
export interface ReductionView {
  outer: number;
  rows: number;
  inner: number;
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/**
 * The [outer, rows, inner] view of a reduction of `shape` over `axes`, when the axes are
 * consecutive (at least one); null otherwise, or when the input is empty.
 */
export function consecutiveAxesReduction(
  shape: readonly number[],
  axes: readonly number[],
): ReductionView | null {
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.some((a, i) => a !== sorted[0] + i)) return null;
  const first = sorted[0];
  const end = first + sorted.length;
  const view = {
    outer: product(shape.slice(0, first)),
    rows: product(shape.slice(first, end)),
    inner: product(shape.slice(end)),
  };
  return view.outer > 0 && view.rows > 0 && view.inner > 0 ? view : null;
}

let enabled = true;
let installed = false;

/** true (the default): column sums for Sum and Mean on webgpu; false: tfjs's. */
export function setWebGpuReductions(on: boolean): void {
  enabled = on;
}

export function webGpuReductionsEnabled(): boolean {
  return enabled;
}

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

function replace(kernelName: 'Sum' | 'Mean'): void {
  const stock = tf.getKernel(kernelName, 'webgpu');
  if (!stock) return;
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as ReduceAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const view = enabled && x.dtype === 'float32' ? consecutiveAxesReduction(x.shape, axes) : null;
    // A long reduction along the innermost axis is what tfjs's kernel does well on a GPU (a
    // workgroup per output, no transpose); there one invocation would read a long strided run.
    if (!view || (view.inner === 1 && view.rows > ROWS_PER_INVOCATION)) {
      return stock.kernelFunc(args);
    }
    const outputShape = keepDims
      ? x.shape.map((n, i) => (axes.includes(i) ? 1 : n))
      : x.shape.filter((_, i) => !axes.includes(i));
    const scale = kernelName === 'Mean' ? 1 / view.rows : 1;
    // A full reduction's scalar is written as one value, then labelled with the shape [].
    const out = runColumnSum(
      args.backend as WebGPUBackend,
      x,
      view,
      outputShape.length === 0 ? [1] : outputShape,
      scale,
    );
    return outputShape.length === 0 ? { ...out, shape: [] } : out;
  };
  tf.unregisterKernel(kernelName, 'webgpu');
  tf.registerKernel({ ...stock, kernelFunc });
}

/** Puts the column-sum Sum and Mean in tfjs's kernel registry for webgpu (once). */
export function installWebGpuReductions(): void {
  if (installed) return;
  installed = true;
  replace('Sum');
  replace('Mean');
}
