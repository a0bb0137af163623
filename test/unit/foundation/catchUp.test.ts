/**
 * The host table's fast paths give the numbers of the straightforward loops, bit for bit: the
 * lazy catch-up (steps replayed for all of a row's entries at once, uniform rows caught up once,
 * block coefficients shared by rows) against an entry-by-entry replay, and the 'exact' pass
 * (flat loops over the rows outside the batch) against an update of every row in turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchPlanner } from '../../../workers/embedding/batchPlan';
import {
  EXACT_CATCH_UP,
  HostEmbeddingTable,
  type SparseOptimizerConfig,
} from '../../../workers/embedding/hostEmbeddingTable';
import {
  hostAdamKernelAvailable,
  setHostAdamKernel,
} from '../../../workers/embedding/hostAdamKernel';
import { Rng } from '../../../workers/rng';

const N = 40;

function adam(mode: 'lazy' | 'exact', weightDecay: number): SparseOptimizerConfig {
  return {
    kind: 'adam',
    mode,
    learningRate: 0.01,
    weightDecay,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
  };
}

/** The table's optimizer state, for comparing it. */
function state(t: HostEmbeddingTable): { m: Float32Array; v: Float32Array } {
  return t as unknown as { m: Float32Array; v: Float32Array };
}

function expectSameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect.fail(`${what}[${i}]: ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

const f = Math.fround;

/**
 * Adam on flat float32 arrays, written out entry by entry (torch's rule, L2 decay) in float32:
 * each operation rounded (Math.fround of the float64 result is the float32 operation's), sqrt(v)
 * multiplied by 1 / sqrt(1 - beta2^t), and every coefficient rounded to float32.
 */
class ReferenceAdam {
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Per step t: learning rate / (1 - beta1^t) and 1 / sqrt(1 - beta2^t), float64. */
  private readonly sizes: number[] = [0];
  private readonly ib: number[] = [0];

  constructor(
    readonly w: Float32Array,
    readonly d: number,
    readonly cfg: SparseOptimizerConfig,
    readonly mask: Uint8Array | null,
  ) {
    this.m = new Float32Array(w.length);
    this.v = new Float32Array(w.length);
  }

  /** Starts step t at learning rate lr. */
  step(t: number, lr: number): void {
    this.sizes[t] = lr / (1 - this.cfg.beta1 ** t);
    this.ib[t] = 1 / Math.sqrt(1 - this.cfg.beta2 ** t);
  }

  /** One step of entry i with loss gradient gi (0: decay only). */
  private entry(i: number, t: number, gi: number): void {
    const { weightDecay, beta1, beta2, eps } = this.cfg;
    const { w, m, v } = this;
    const g = f(gi + f(f(weightDecay) * w[i]));
    m[i] = f(f(beta1) * m[i]) + f(f(1 - beta1) * g);
    v[i] = f(f(beta2) * v[i]) + f(f(f(1 - beta2) * g) * g);
    const denominator = f(f(f(Math.sqrt(v[i])) * f(this.ib[t])) + f(eps));
    w[i] = w[i] - f(f(f(this.sizes[t]) * m[i]) / denominator);
  }

  /** Step t for one row: `grad` from `offset`, or none (decay only). */
  update(row: number, t: number, grad: Float32Array | null, offset: number): void {
    for (let k = 0; k < this.d; k++) {
      const i = row * this.d + k;
      if (this.mask && this.mask[i] === 0) continue;
      this.entry(i, t, grad ? grad[offset + k] : 0);
    }
  }

  /** The decay-only steps from..to of one row: the first EXACT_CATCH_UP one by one, then blocks. */
  catchUp(row: number, from: number, to: number): void {
    const { weightDecay, beta1, beta2, eps } = this.cfg;
    const { w, m, v } = this;
    for (let k = 0; k < this.d; k++) {
      const i = row * this.d + k;
      if (this.mask && this.mask[i] === 0) continue;
      let t = from;
      for (; t <= Math.min(to, from + EXACT_CATCH_UP - 1); t++) this.entry(i, t, 0);
      for (let block = EXACT_CATCH_UP; t <= to; block *= 2) {
        const n = Math.min(block, to - t + 1);
        const g = f(f(weightDecay) * w[i]);
        const js = [1, (n + 1) / 2, n];
        const ts = [t, t + ((n - 1) >> 1), t + n - 1];
        let sum = 0;
        for (let q = 0; q < 3; q++) {
          const b1 = beta1 ** js[q];
          const b2 = beta2 ** js[q];
          const mj = f(f(f(b1) * m[i]) + f(f(1 - b1) * g));
          const vj = f(f(f(b2) * v[i]) + f(f(f(1 - b2) * g) * g));
          const term = f(
            f(f(this.sizes[ts[q]]) * mj) / f(f(f(Math.sqrt(vj)) * f(this.ib[ts[q]])) + f(eps)),
          );
          sum = f(sum + (q === 1 ? f(4 * term) : term));
        }
        const delta = f(f(n * sum) / 6);
        const towardsZero = Math.sign(delta) === Math.sign(w[i]) && delta !== 0;
        w[i] = towardsZero && Math.abs(delta) >= Math.abs(w[i]) ? 0 : w[i] - delta;
        m[i] = f(f(beta1 ** n) * m[i]) + f(f(1 - beta1 ** n) * g);
        v[i] = f(f(beta2 ** n) * v[i]) + f(f(f(1 - beta2 ** n) * g) * g);
        t += n;
      }
    }
  }
}

/**
 * A table whose first rows hold one constant (like PEP's S) and the others random values, and
 * its reference copy.
 */
function tables(
  mode: 'lazy' | 'exact',
  d: number,
  masked: boolean,
  seed: number,
): { table: HostEmbeddingTable; ref: ReferenceAdam } {
  const cfg = adam(mode, 0.02);
  const table = new HostEmbeddingTable('t', N, d, cfg, { kind: 'constant', value: -3 }, new Rng(1));
  const rng = new Rng(seed);
  for (let i = (N / 2) * d; i < N * d; i++) table.weights[i] = rng.uniform(-0.5, 0.5);
  let mask: Uint8Array | null = null;
  if (masked) {
    mask = Uint8Array.from({ length: N * d }, () => (rng.next() < 0.7 ? 1 : 0));
    table.setMask(mask);
  }
  return { table, ref: new ReferenceAdam(table.weights.slice(), d, cfg, mask) };
}

/** Runs `body`'s tests with the WebAssembly Adam kernel on, then with the JavaScript loops. */
function withAndWithoutKernel(body: () => void): void {
  for (const kernel of [true, false]) {
    describe(kernel ? 'WebAssembly kernel' : 'JavaScript loops', () => {
      beforeAll(() => setHostAdamKernel(kernel));
      afterAll(() => setHostAdamKernel(true));
      it(kernel ? 'the kernel is there (Node has WebAssembly SIMD)' : 'the kernel is off', () => {
        expect(hostAdamKernelAvailable()).toBe(kernel);
      });
      body();
    });
  }
}

withAndWithoutKernel(() => {
  describe('lazy catch-up = the entry-by-entry replay, bit for bit', () => {
    for (const d of [1, 3, 4]) {
      for (const masked of [false, true]) {
        it(`gaps of 1 to 300 steps, learning rate changing, dim ${d}${masked ? ', masked' : ''}`, () => {
          const { table, ref } = tables('lazy', d, masked, 3 + d);
          table.keepStepHistory();
          const rng = new Rng(11);
          const last = new Int32Array(N);
          const gaps = new Set<number>();
          for (let step = 1; step <= 320; step++) {
            const lr = 0.01 * (1 + 0.5 * Math.sin(step / 7));
            table.setLearningRate(lr);
            table.beginStep();
            ref.step(step, lr);
            // A few rows often, the others rarely; at step 320 every row (the longest gaps).
            const rows = Int32Array.from({ length: N }, (_, r) => r).filter(
              (r) => step === 320 || rng.next() < (r % 5 === 0 ? 0.5 : 0.02),
            );
            const grad = Float32Array.from({ length: rows.length * d }, () =>
              rng.uniform(-0.1, 0.1),
            );
            rows.forEach((row, u) => {
              gaps.add(step - 1 - last[row]);
              table.catchUpDecay(row, last[row] + 1, step - 1);
              ref.catchUp(row, last[row] + 1, step - 1);
              // Half the rows get no gradient: S rows of a pruned-out entry stay uniform.
              const g = row % 2 === 0 ? grad : new Float32Array(grad.length);
              table.updateRow(row, g, u * d);
              ref.update(row, step, g, u * d);
              last[row] = step;
            });
          }
          expect(Math.max(...gaps)).toBeGreaterThan(150);
          expect([...gaps].filter((g) => g > 0 && g <= EXACT_CATCH_UP).length).toBeGreaterThan(5);
          expectSameBits(table.weights, ref.w, 'w');
          expectSameBits(state(table).m, ref.m, 'm');
          expectSameBits(state(table).v, ref.v, 'v');
        });
      }
    }
  });

  describe("the 'exact' pass = every row updated in turn, bit for bit", () => {
    for (const [d, masked] of [
      [4, false],
      [4, true],
      [3, false],
      [24, false],
    ] as const) {
      it(`rows outside the batch decay, equal rows included, dim ${d}${masked ? ', masked' : ''}`, () => {
        const { table, ref } = tables('exact', d, masked, 5);
        const planner = new BatchPlanner(N);
        const rng = new Rng(2);
        for (let step = 1; step <= 40; step++) {
          const ids = Int32Array.from({ length: 6 }, () => rng.int(N));
          const plan = planner.plan(ids);
          const grad = Float32Array.from({ length: plan.uniqueRows.length * d }, () =>
            rng.uniform(-0.1, 0.1),
          );
          table.applyGradient(plan, grad);
          ref.step(step, table.optimizer.learningRate);
          for (let row = 0; row < N; row++) {
            const touched = planner.isTouched(row, plan.generation);
            ref.update(row, step, touched ? grad : null, touched ? planner.slotOf[row] * d : 0);
          }
        }
        expectSameBits(table.weights, ref.w, 'w');
        expectSameBits(state(table).m, ref.m, 'm');
        expectSameBits(state(table).v, ref.v, 'v');
      });
    }
  });
});
