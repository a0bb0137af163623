/**
 * The host Adam kernel's module is built from its text: the bytes the app loads are the ones
 * hostAdam.wat compiles to (rerun `node scripts/build-host-adam.mjs` after editing it). Its
 * numbers are checked against the reference loops in catchUp.test.ts, with and without it.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileHostAdam } from '../../../scripts/hostAdamSource.mjs';
import { HOST_ADAM_WASM_BASE64 } from '../../../workers/embedding/hostAdamWasm';
import {
  DEFAULT_SPARSE_OPTIMIZER,
  HostEmbeddingTable,
} from '../../../workers/embedding/hostEmbeddingTable';
import { Rng } from '../../../workers/rng';

describe('host Adam kernel', () => {
  it('hostAdamWasm.ts holds what hostAdam.wat compiles to', async () => {
    const root = path.resolve(__dirname, '../../..');
    expect(await compileHostAdam(root)).toBe(HOST_ADAM_WASM_BASE64);
  });

  it("an Adam table's weights and moments live in the kernel's memory; SGD's do not", () => {
    const make = (kind: 'adam' | 'sgd') =>
      new HostEmbeddingTable(
        't',
        1000,
        16,
        { ...DEFAULT_SPARSE_OPTIMIZER, kind },
        { kind: 'normal', std: 0.01 },
        new Rng(1),
      );
    const adam = make('adam');
    expect(adam.weights.buffer.byteLength).toBeGreaterThan(3 * adam.weights.byteLength);
    expect(adam.weights.byteOffset % 64).toBe(0);
    const sgd = make('sgd');
    expect(sgd.weights.buffer.byteLength).toBe(sgd.weights.byteLength);
  });

  it("counts each row's weights above a threshold in magnitude as the JavaScript comparison does", () => {
    const rng = new Rng(3);
    for (const dim of [1, 3, 4, 16, 24]) {
      const rows = 300;
      const table = new HostEmbeddingTable(
        't',
        rows,
        dim,
        DEFAULT_SPARSE_OPTIMIZER,
        { kind: 'uniform', bound: 1 },
        new Rng(dim),
      );
      const w = table.weights;
      // Zeros of both signs, a NaN, an infinity and values equal to the thresholds.
      for (let i = 0; i < w.length; i += 7)
        w[i] = [0, -0, Number.NaN, -Infinity, 0.5, -0.25][i % 6];
      for (const t of [0, 0.25, Math.fround(0.5), Math.fround(rng.uniform(0, 1))]) {
        const counts = table.countAbove(5, 5 + 200, t) as Uint16Array;
        expect(counts).not.toBeNull();
        for (let r = 5; r < 205; r++) {
          let expected = 0;
          for (let k = 0; k < dim; k++) if (Math.abs(w[r * dim + k]) > t) expected++;
          expect(counts[r - 5]).toBe(expected);
        }
      }
    }
  });
});
