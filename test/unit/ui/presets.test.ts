import { beforeEach, describe, expect, it } from 'vitest';
import type { LoadedDatasetInfo } from '../../../workers/datasetProtocol';
import { validateRunConfig } from '../../../workers/protocol';
import { validateSeqRunConfig } from '../../../workers/sequence/seqProtocol';
import { METHOD_CATALOG } from '../../../src/methods/catalog';
import { emptyRun, useLabStore } from '../../../src/state/labStore';
import { emptySeqRun, useSeqStore } from '../../../src/state/seqStore';
import { useDatasetStore } from '../../../src/state/datasetStore';
import { configFromForm, DEFAULT_RUN_CONFIG, formFromConfig } from '../../../src/state/runForm';
import { DEFAULT_SEQ_FORM, seqConfigFromForm } from '../../../src/state/seqForm';
import {
  applyPreset,
  LAB_PRESETS,
  missingData,
  presetById,
  presetErrors,
  type CtrPreset,
  type QueuePreset,
  type QueuedRun,
  type SeqPreset,
} from '../../../src/state/presets';

const ctr = (id: string) => presetById(id) as CtrPreset;
const seq = (id: string) => presetById(id) as SeqPreset;
const queue = () => presetById('baselines-vs-pep') as QueuePreset;

/** What the worker says about a loaded file (only the fields the presets read). */
function loadedInfo(kind: LoadedDatasetInfo['kind'], format: string, name: string) {
  return { kind, format, name, formatDescription: format } as unknown as LoadedDatasetInfo;
}

beforeEach(() => {
  useLabStore.setState({
    form: formFromConfig(DEFAULT_RUN_CONFIG),
    run: emptyRun(0),
    banner: null,
  });
  useSeqStore.setState({ task: 'ctr', form: DEFAULT_SEQ_FORM, run: emptySeqRun(0) });
  useDatasetStore.setState({ loaded: null });
});

describe('the lab presets', () => {
  it('are the entries of the menu, each with a one-line summary', () => {
    expect(LAB_PRESETS.map((p) => p.label)).toEqual([
      'Quick demo (synthetic, about a minute)',
      'PEP on Criteo as in the paper',
      'UMEC budget sweep on DLRM',
      'CpRec on item sequences',
      'CpRec quick demo (synthetic sequences)',
      'Baselines vs PEP at 90% sparsity',
    ]);
    for (const p of LAB_PRESETS) {
      expect(p.summary.length).toBeGreaterThan(40);
      expect(p.summary).not.toMatch(/\n/);
    }
    expect(new Set(LAB_PRESETS.map((p) => p.id)).size).toBe(LAB_PRESETS.length);
  });

  it('each yields a valid config through the existing validation', () => {
    for (const p of LAB_PRESETS) {
      expect(presetErrors(p), p.id).toEqual([]);
      if (p.kind === 'ctr') {
        const { config, errors } = configFromForm(p.form);
        expect(errors, p.id).toEqual({});
        expect(validateRunConfig(config, METHOD_CATALOG), p.id).toEqual({});
      } else if (p.kind === 'seq') {
        const { config, errors } = seqConfigFromForm(p.form);
        expect(errors, p.id).toEqual({});
        expect(validateSeqRunConfig(config), p.id).toEqual({});
      } else {
        for (const source of ['synthetic', 'loaded'] as const) {
          expect(presetErrors(p, source), `${p.id} on ${source}`).toEqual([]);
          for (const run of p.runs(source)) {
            const { config, errors } = configFromForm(run.form);
            expect(errors, run.label).toEqual({});
            expect(validateRunConfig(config, METHOD_CATALOG), run.label).toEqual({});
            expect(config.source).toBe(source);
          }
        }
      }
    }
  });

  it('Quick demo: PEP’s quick preset on a small synthetic slice', () => {
    const { config } = configFromForm(ctr('quick-demo').form);
    expect(config.source).toBe('synthetic');
    expect(config.data).toMatchObject({ numRows: 20000, numFields: 8, maxCardinality: 3000 });
    expect(config.train).toMatchObject({ model: 'deepfm', embeddingDim: 8, epochs: 10 });
    expect(config.method.id).toBe('pep');
    expect(config.method.options).toMatchObject({ targets: [50, 80, 90], retrain: 'all' });
  });

  it('PEP on Criteo: the paper’s DeepFM settings on the loaded file', () => {
    const { config } = configFromForm(ctr('pep-criteo-paper').form);
    expect(config.source).toBe('loaded');
    // scripts/paperConfigs.mjs PEP_CRITEO
    expect(config.train).toMatchObject({
      model: 'deepfm',
      embeddingDim: 24,
      mlpLayers: [400, 400, 400],
      dropout: 0.2,
      batchNorm: true,
      batchSize: 1024,
      learningRate: 1e-3,
      weightDecay: 1e-5,
      denseOptimizer: 'adam',
      gradClipNorm: 100,
      embeddingOptimizer: 'adam',
      embeddingUpdate: 'exact',
    });
    expect(config.method).toMatchObject({
      id: 'pep',
      options: { thresholdInit: -150, targetKind: 'nonzeros', targets: [50000, 30000, 20000] },
    });
  });

  it('UMEC sweep: UMEC’s DLRM, budget 0.5 then 0.35, 0.18 and 0.1', () => {
    const { config } = configFromForm(ctr('umec-dlrm-sweep').form);
    expect(config.source).toBe('loaded');
    // scripts/paperConfigs.mjs UMEC_DLRM
    expect(config.train).toMatchObject({
      model: 'dlrm',
      embeddingDim: 16,
      mlpLayers: [512, 256],
      dropout: 0,
      batchNorm: false,
      batchSize: 128,
      learningRate: 0.1,
      weightDecay: 0,
      denseOptimizer: 'sgd',
      gradClipNorm: 0,
      embeddingOptimizer: 'sgd',
      embeddingUpdate: 'lazy',
    });
    expect(config.method).toMatchObject({
      id: 'umec',
      options: { budget: 0.5, sweep: [0.35, 0.18, 0.1], solver: 'primal-dual' },
    });
  });

  it('CpRec presets: the loaded sequences, and the synthetic quick demo', () => {
    const ml1m = seqConfigFromForm(seq('cprec-ml1m').form).config;
    expect(ml1m.source).toBe('loaded');
    expect(ml1m.method).toBe('cprec');
    expect(ml1m.cprec).toEqual({ cutPoints: [0.2, 0.5], factor: 4, sharing: 'cross-block' });
    expect(ml1m.train.embeddingDim).toBe(64);
    const quick = seqConfigFromForm(seq('cprec-quick').form).config;
    expect(quick.source).toBe('synthetic');
    expect(quick.data).toMatchObject({ numSequences: 3000, numItems: 600, length: 12 });
    expect(quick.train).toMatchObject({ embeddingDim: 32, epochs: 4, learningRate: 0.005 });
    expect(quick.method).toBe('cprec');
    expect(quick.cprec).toEqual(seqConfigFromForm(DEFAULT_SEQ_FORM).config.cprec);
  });

  it('the baselines queue: one slice and model, five ways to about 10% of the embedding', () => {
    const runs = queue().runs('synthetic');
    expect(runs.map((r) => configFromForm(r.form).config.method.id)).toEqual([
      'none',
      'magnitude',
      'uniform-dim',
      'hashing',
      'pep',
    ]);
    const configs = runs.map((r) => configFromForm(r.form).config);
    for (const c of configs) {
      expect(c.data).toEqual(configs[0].data);
      expect(c.train).toEqual(configs[0].train);
    }
    const d = configs[0].train.embeddingDim;
    expect(configs[1].method.options.sparsity).toBe(0.9);
    expect(configs[2].method.options.dim).toBe(d / 10);
    expect(configs[3].method.options.fraction).toBe(0.1);
    expect(configs[4].method.options).toMatchObject({ targetKind: 'sparsity', targets: [90] });
    expect(runs[1].label).toMatch(/magnitude pruning/);
  });
});

describe('missing data', () => {
  const need = ctr('pep-criteo-paper').needs!;

  it('names the file to load, and what is loaded instead', () => {
    expect(missingData(null, null)).toBeNull();
    expect(missingData(need, null)).toMatch(/criteo_dac_train_first10k\.txt.*no file is loaded/);
    expect(missingData(need, loadedInfo('sequence', 'sequences', 'ml1m.txt'))).toMatch(
      /ml1m\.txt\) is not a click-through file/,
    );
    expect(missingData(need, loadedInfo('ctr', 'avazu-csv', 'avazu.csv'))).toMatch(
      /another kind of data/,
    );
    expect(missingData(need, loadedInfo('ctr', 'criteo-tsv', 'criteo.txt'))).toBeNull();
  });
});

describe('applying a preset', () => {
  it('sets the click-through form and says what it set up', () => {
    useSeqStore.setState({ task: 'seq' });
    const p = ctr('quick-demo');
    const out = applyPreset(p);
    expect(out.applied).toBe(true);
    expect(out.banner.kind).toBe('info');
    expect(useSeqStore.getState().task).toBe('ctr');
    expect(useLabStore.getState().form).toEqual(p.form);
    expect(useLabStore.getState().banner?.message).toMatch(/^Preset applied: Quick demo/);
  });

  it('switches to the sequence task and sets its form', () => {
    const p = seq('cprec-quick');
    applyPreset(p);
    expect(useSeqStore.getState().task).toBe('seq');
    expect(useSeqStore.getState().form).toEqual(p.form);
    expect(useSeqStore.getState().form['seq.data.numSequences']).toBe('3000');
  });

  it('sets the form all the same when its data is not loaded, and says what to load', () => {
    const out = applyPreset(ctr('pep-criteo-paper'));
    expect(out.applied).toBe(true);
    expect(out.banner.kind).toBe('error');
    expect(out.banner.message).toMatch(/Load the Criteo slice \(criteo_dac_train_first10k\.txt\)/);
    expect(useLabStore.getState().form['source']).toBe('loaded');
    expect(useLabStore.getState().form['method.id']).toBe('pep');

    const ml1m = applyPreset(seq('cprec-ml1m'));
    expect(ml1m.banner.message).toMatch(/grec_ml1m_ratings_seq20_order\.txt/);
    expect(useSeqStore.getState().form['seq.source']).toBe('loaded');

    useDatasetStore.setState({ loaded: loadedInfo('ctr', 'criteo-tsv', 'criteo.txt') });
    expect(applyPreset(ctr('umec-dlrm-sweep')).banner.kind).toBe('info');
  });

  it('is refused while a run holds the engine', () => {
    useLabStore.setState({ run: { ...emptyRun(1), state: 'running' } });
    const before = useLabStore.getState().form;
    const out = applyPreset(seq('cprec-quick'));
    expect(out.applied).toBe(false);
    expect(out.banner.message).toMatch(/Stop the run/);
    expect(useSeqStore.getState().task).toBe('ctr');
    expect(useLabStore.getState().form).toBe(before);
    expect(applyPreset(ctr('quick-demo'), { queueActive: true }).applied).toBe(false);
  });

  it('starts a queue of runs on the synthetic slice; on the loaded file only when one is loaded', () => {
    const started: { name: string; runs: QueuedRun[] }[] = [];
    const startQueue = (name: string, runs: QueuedRun[]) => started.push({ name, runs });
    const out = applyPreset(queue(), { startQueue });
    expect(out.applied).toBe(true);
    expect(started).toHaveLength(1);
    expect(started[0].runs.map((r) => r.label)).toHaveLength(5);
    // The form shows the first run's settings until the queue replaces them.
    expect(useLabStore.getState().form).toEqual(started[0].runs[0].form);

    const loaded = applyPreset(queue(), { startQueue, queueSource: 'loaded' });
    expect(loaded.applied).toBe(false);
    expect(loaded.banner.message).toMatch(/not started.*Load a click-through file/);
    expect(started).toHaveLength(1);
    useDatasetStore.setState({ loaded: loadedInfo('ctr', 'criteo-tsv', 'criteo.txt') });
    expect(applyPreset(queue(), { startQueue, queueSource: 'loaded' }).applied).toBe(true);
    expect(started).toHaveLength(2);
    expect(configFromForm(started[1].runs[0].form).config.source).toBe('loaded');
  });
});
