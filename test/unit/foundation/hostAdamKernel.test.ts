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
});
