/**
 * Every method of the registry, on every CTR model it supports: its defaults are valid, it trains
 * 20 steps on the synthetic slice, leaves tf.memory() where it found it, and every series it
 * declares arrives.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { runExperiment } from '../../../workers/engine/trainer';
import { RunControl } from '../../../workers/engine/runControl';
import { METHODS } from '../../../workers/methods/registry';
import { checkOption, defaultsOf, type OptionValue } from '../../../workers/options';
import {
  DEFAULT_TRAIN_CONFIG,
  validateRunConfig,
  type EngineEvent,
  type RunConfig,
  type TrainConfig,
} from '../../../workers/protocol';
import { METHOD_SPECS } from '../../../workers/methods/registry';
import { METHOD_CATALOG } from '../../../src/methods/catalog';

// wasm, the headless runner's backend: AutoInt's 20 steps take seconds there, not half a minute.
beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
});

const data = { seed: 4, numRows: 1000, numFields: 6, maxCardinality: 400 };
const ds = generateSyntheticCtr(data);
const train: TrainConfig = {
  ...DEFAULT_TRAIN_CONFIG,
  embeddingDim: 8,
  mlpLayers: [8],
  batchSize: 32,
  epochs: 1,
  maxSteps: 20,
  learningRate: 0.01,
};

/**
 * Settings that make a method show all it does within 20 steps: a short second phase; PEP
 * thresholds that prune at once, so that a snapshot is taken and retrained.
 */
const QUICK_OPTIONS: Record<string, Record<string, OptionValue>> = {
  magnitude: { fineTuneEpochs: 1 },
  pep: { thresholdInit: 0, targets: [1], retrain: 'all' },
  umec: { denseEpochs: 1, solveEpochs: 2, fineTuneEpochs: 1, sLearningRate: 0.05 },
};
/** Further runs of a method whose options switch series on (the union must cover the spec). */
const VARIANTS: Record<string, Record<string, OptionValue>[]> = {
  umec: [{ solver: 'admm', roundSteps: 5 }],
};

/** Which series arrived, by id. */
function seriesSeen(events: EngineEvent[]): Set<string> {
  const seen = new Set<string>();
  for (const e of events) {
    if (e.type === 'progress') {
      for (const [id, values] of Object.entries(e.batch.series)) {
        if (values.some((v) => !Number.isNaN(v))) seen.add(id);
      }
    } else if (
      e.type === 'method-vector' ||
      e.type === 'method-histogram' ||
      e.type === 'method-points'
    ) {
      seen.add(e.series);
    } else if (e.type === 'evaluation') {
      for (const id of Object.keys(e.metrics.method)) seen.add(id);
    }
  }
  return seen;
}

describe('the method registry', () => {
  it('is what the form offers: the UI catalog finds the same specs, in the same order', () => {
    expect(METHOD_CATALOG.map((m) => m.id)).toEqual(METHOD_SPECS.map((m) => m.id));
    METHOD_CATALOG.forEach((spec, i) => expect(spec).toBe(METHOD_SPECS[i]));
  });

  it('has unique ids, and each spec its own series and charts', () => {
    const ids = METHODS.map((m) => m.spec.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('none');
    for (const { spec } of METHODS) {
      const charts = new Set(spec.charts.map((c) => c.id));
      expect(spec.series.length, spec.id).toBeGreaterThan(0);
      for (const s of spec.series) expect(charts.has(s.chart), `${spec.id}.${s.id}`).toBe(true);
      const params = Object.values(spec.options).map((o) => o.param);
      expect(new Set(params).size).toBe(params.length);
    }
  });

  for (const { spec } of METHODS) {
    it(`${spec.id}: its defaults are inside their bounds and make a valid config`, () => {
      const options = defaultsOf(spec.options);
      for (const [key, option] of Object.entries(spec.options)) {
        expect(checkOption(options[key], option), `${spec.id}.${key}`).toBeNull();
      }
      const config: RunConfig = {
        source: 'synthetic',
        data,
        train: { ...DEFAULT_TRAIN_CONFIG, model: spec.models[0] },
        method: { id: spec.id, options },
      };
      expect(validateRunConfig(config, METHOD_SPECS)).toEqual({});
    });

    for (const preset of spec.presets ?? []) {
      it(`${spec.id}: preset "${preset.label}" makes a valid config`, () => {
        const config: RunConfig = {
          source: preset.source ?? 'synthetic',
          data: { ...data, ...preset.data },
          train: { ...DEFAULT_TRAIN_CONFIG, model: spec.models[0], ...preset.train },
          method: { id: spec.id, options: { ...defaultsOf(spec.options), ...preset.options } },
        };
        expect(validateRunConfig(config, METHOD_SPECS)).toEqual({});
      });
    }

    for (const model of spec.models) {
      it(`${spec.id} on ${model}: 20 steps, flat memory, every declared series arrives`, async () => {
        const before = tf.memory().numTensors;
        const events: EngineEvent[] = [];
        const options: Record<string, OptionValue> = {
          ...defaultsOf(spec.options),
          ...QUICK_OPTIONS[spec.id],
        };
        const seen = new Set<string>();
        for (const variant of [{}, ...(VARIANTS[spec.id] ?? [])]) {
          const { result, kept } = await runExperiment(
            ds,
            { ...train, model },
            { id: spec.id, options: { ...options, ...variant } },
            new RunControl(),
            (e) => events.push(e),
          );
          expect(result.steps).toBeGreaterThanOrEqual(20);
          expect(result.test).not.toBeNull();
          expect(Number.isFinite(result.test!.auc)).toBe(true);
          expect(result.model.totalParams).toBeGreaterThan(0);
          kept.dispose();
          for (const id of seriesSeen(events)) seen.add(id);
        }
        // A series that some runs cannot produce says so (onlyWhen); every other one must arrive.
        for (const s of spec.series) {
          if (!s.onlyWhen) expect(seen.has(s.id), `series ${s.id}`).toBe(true);
        }
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }
});
