/** The "auto" backend's memory of calibrations, on a Map-backed store. */
import { describe, expect, it } from 'vitest';
import {
  choiceKey,
  forgetChoice,
  rememberChoice,
  rememberedChoice,
  type KeyValueStore,
} from '../../../src/state/backendChoice';
import type { BackendCalibration } from '../../../workers/protocol';

class MapStore implements KeyValueStore {
  readonly map = new Map<string, string>();
  writes = 0;
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.writes++;
    this.map.set(key, value);
  }
  /** The one key the module writes under (it does not export it). */
  storageKey(): string {
    const keys = [...this.map.keys()];
    expect(keys).toHaveLength(1);
    return keys[0];
  }
  raw(): Record<string, unknown> {
    return JSON.parse(this.map.get(this.storageKey()) ?? '{}') as Record<string, unknown>;
  }
}

function calibration(shapeKey: string, chosen: BackendCalibration['chosen'] = 'wasm') {
  const c: BackendCalibration = {
    shapeKey,
    chosen,
    rows: [
      {
        backend: 'wasm',
        status: 'measured',
        msPerStep: 40,
        samplesPerSecond: 25600,
        timedSteps: 3,
        adapterDescription: '',
        softwareAdapter: false,
        note: '',
      },
      {
        backend: 'webgpu',
        status: 'slower',
        msPerStep: null,
        samplesPerSecond: null,
        timedSteps: 1,
        adapterDescription: 'Google SwiftShader',
        softwareAdapter: true,
        note: '300 ms per step already at batch 128',
      },
    ],
    batchSize: 1024,
    totalMs: 1234,
    measuredAt: '2024-01-02T03:04:05.000Z',
  };
  return c;
}

describe('remembered backend choices', () => {
  it('reads back what was remembered; nothing for an unknown key', () => {
    const store = new MapStore();
    const key = choiceKey('deepfm/fields10/d8', 8);
    expect(rememberedChoice(store, key)).toBeNull();
    const c = calibration('deepfm/fields10/d8', 'webgpu');
    rememberChoice(store, key, c);
    expect(rememberedChoice(store, key)).toEqual(c);
    expect(rememberedChoice(store, choiceKey('fm/fields10/d8', 8))).toBeNull();
  });

  it('the key includes the cores: another core count misses', () => {
    const store = new MapStore();
    expect(choiceKey('s', 8)).not.toBe(choiceKey('s', 4));
    expect(choiceKey('s', 8)).toContain('s');
    rememberChoice(store, choiceKey('s', 8), calibration('s'));
    expect(rememberedChoice(store, choiceKey('s', 8))).not.toBeNull();
    expect(rememberedChoice(store, choiceKey('s', 4))).toBeNull();
    expect(rememberedChoice(store, choiceKey('s', 16))).toBeNull();
  });

  it('forget removes that key only', () => {
    const store = new MapStore();
    rememberChoice(store, 'a', calibration('a', 'wasm'));
    rememberChoice(store, 'b', calibration('b', 'webgpu'));
    forgetChoice(store, 'a');
    expect(rememberedChoice(store, 'a')).toBeNull();
    expect(rememberedChoice(store, 'b')?.chosen).toBe('webgpu');
    expect(Object.keys(store.raw())).toEqual(['b']);
    // Forgetting an unknown key changes nothing (and writes nothing).
    const writes = store.writes;
    forgetChoice(store, 'never');
    expect(store.writes).toBe(writes);
    expect(rememberedChoice(store, 'b')?.chosen).toBe('webgpu');
  });

  it('corrupt JSON reads as nothing remembered, and remembering overwrites it', () => {
    const store = new MapStore();
    rememberChoice(store, 'a', calibration('a'));
    const storageKey = store.storageKey();
    store.map.set(storageKey, '{"a": {not json');
    expect(rememberedChoice(store, 'a')).toBeNull();
    expect(() => forgetChoice(store, 'a')).not.toThrow();
    rememberChoice(store, 'b', calibration('b', 'cpu'));
    expect(rememberedChoice(store, 'b')?.chosen).toBe('cpu');
    expect(Object.keys(store.raw())).toEqual(['b']);
  });

  it('a foreign value (an array, a number, null) reads as nothing remembered', () => {
    const store = new MapStore();
    rememberChoice(store, 'a', calibration('a'));
    const storageKey = store.storageKey();
    for (const foreign of ['[1,2]', '5', 'null', '"text"']) {
      store.map.set(storageKey, foreign);
      expect(rememberedChoice(store, 'a')).toBeNull();
      rememberChoice(store, 'a', calibration('a'));
      expect(rememberedChoice(store, 'a')).not.toBeNull();
    }
  });

  it('drops entries that fail validation and keeps the valid ones', () => {
    const store = new MapStore();
    rememberChoice(store, 'good', calibration('good', 'webgl'));
    const storageKey = store.storageKey();
    const all = store.raw();
    const weirdRow = calibration('weird-row');
    all['tpu'] = { ...calibration('tpu'), chosen: 'tpu' };
    all['weird-row'] = {
      ...weirdRow,
      rows: [weirdRow.rows[0], { ...weirdRow.rows[1], status: 'weird' }],
    };
    all['foreign-backend-row'] = {
      ...weirdRow,
      rows: [{ ...weirdRow.rows[0], backend: 'metal' }],
    };
    all['string-ms'] = { ...weirdRow, rows: [{ ...weirdRow.rows[0], msPerStep: '40' }] };
    all['no-batch'] = { ...calibration('no-batch'), batchSize: undefined };
    all['no-date'] = { ...calibration('no-date'), measuredAt: 12 };
    all['rows-not-array'] = { ...calibration('rows-not-array'), rows: {} };
    all['not-an-object'] = 'wasm';
    store.map.set(storageKey, JSON.stringify(all));

    for (const bad of [
      'tpu',
      'weird-row',
      'foreign-backend-row',
      'string-ms',
      'no-batch',
      'no-date',
      'rows-not-array',
      'not-an-object',
    ]) {
      expect(rememberedChoice(store, bad), bad).toBeNull();
    }
    expect(rememberedChoice(store, 'good')).toEqual(calibration('good', 'webgl'));

    // The next write keeps only what was valid.
    rememberChoice(store, 'new', calibration('new'));
    expect(Object.keys(store.raw())).toEqual(['good', 'new']);
  });

  it('keys inherited from Object.prototype are not remembered choices', () => {
    const store = new MapStore();
    rememberChoice(store, 'a', calibration('a'));
    expect(rememberedChoice(store, 'toString')).toBeNull();
    expect(rememberedChoice(store, '__proto__')).toBeNull();
    expect(rememberedChoice(store, 'constructor')).toBeNull();
  });

  it('keeps the newest 50 shapes: the oldest goes first', () => {
    const store = new MapStore();
    for (let i = 0; i < 50; i++) rememberChoice(store, `shape${i}`, calibration(`shape${i}`));
    expect(Object.keys(store.raw())).toHaveLength(50);
    expect(rememberedChoice(store, 'shape0')).not.toBeNull();

    rememberChoice(store, 'shape50', calibration('shape50'));
    const keys = Object.keys(store.raw());
    expect(keys).toHaveLength(50);
    expect(rememberedChoice(store, 'shape0')).toBeNull();
    expect(rememberedChoice(store, 'shape1')).not.toBeNull();
    expect(rememberedChoice(store, 'shape50')).not.toBeNull();
    expect(keys[0]).toBe('shape1');
    expect(keys.at(-1)).toBe('shape50');

    rememberChoice(store, 'shape51', calibration('shape51'));
    expect(rememberedChoice(store, 'shape1')).toBeNull();
    expect(rememberedChoice(store, 'shape2')).not.toBeNull();
  });

  it('remembering an old key again makes it the newest', () => {
    const store = new MapStore();
    for (let i = 0; i < 50; i++) rememberChoice(store, `shape${i}`, calibration(`shape${i}`));
    // shape0 is the oldest; measured again, it moves to the end and shape1 becomes the oldest.
    rememberChoice(store, 'shape0', calibration('shape0', 'webgpu'));
    expect(Object.keys(store.raw())).toHaveLength(50);
    expect(Object.keys(store.raw()).at(-1)).toBe('shape0');

    rememberChoice(store, 'shape50', calibration('shape50'));
    expect(rememberedChoice(store, 'shape0')?.chosen).toBe('webgpu');
    expect(rememberedChoice(store, 'shape1')).toBeNull();
    expect(rememberedChoice(store, 'shape2')).not.toBeNull();
    expect(Object.keys(store.raw())).toHaveLength(50);
  });

  it('a store whose setItem throws does not throw out of remember or forget', () => {
    const inner = new MapStore();
    rememberChoice(inner, 'a', calibration('a'));
    const full: KeyValueStore = {
      getItem: (key) => inner.getItem(key),
      setItem: () => {
        throw new DOMException('quota exceeded', 'QuotaExceededError');
      },
    };
    expect(() => rememberChoice(full, 'b', calibration('b'))).not.toThrow();
    expect(() => forgetChoice(full, 'a')).not.toThrow();
    // Nothing was written: 'a' is still there, 'b' is not.
    expect(rememberedChoice(full, 'a')).not.toBeNull();
    expect(rememberedChoice(full, 'b')).toBeNull();
  });
});
