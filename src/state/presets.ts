/**
 * The lab's one-click presets, across methods and tasks: each sets a whole form (the
 * click-through form or the sequence form, from their defaults) or a queue of click-through runs.
 * They go through the form stores, so the URL follows and the existing validation checks them.
 *
 * The definitions are plain data built from the methods' own presets (workers/methods/<id>/spec.ts)
 * where one exists, so a preset there and here cannot drift apart.
 */
import type { LoadedDatasetInfo } from '../../workers/datasetProtocol';
import type { MethodPreset } from '../../workers/methods/methodSpec';
import type { DataSource, TrainConfig } from '../../workers/protocol';
import { DEFAULT_SEQ_RUN, type SeqRunConfig } from '../../workers/sequence/seqProtocol';
import { methodSpecOf } from '../methods/catalog';
import { isRunBusy, useLabStore, type Banner } from './labStore';
import {
  configFromForm,
  DEFAULT_RUN_CONFIG,
  formFromConfig,
  formWithPreset,
  type RunForm,
} from './runForm';
import { seqConfigFromForm, seqFormFromConfig, type SeqForm } from './seqForm';
import { useSeqStore } from './seqStore';
import { useDatasetStore } from './datasetStore';

/** Data a preset needs loaded first (its form says `source: loaded`). */
export interface DataNeed {
  kind: LoadedDatasetInfo['kind'];
  /** Formats that fit, by prefix of the format id (e.g. 'criteo'); none = any of `kind`. */
  formats?: readonly string[];
  /** What to do, as a sentence: "Load the Criteo slice (…) first". */
  text: string;
}

interface PresetBase {
  id: string;
  label: string;
  /** One line: what it sets up and what to expect. */
  summary: string;
  /** What must be loaded first, when the preset trains on a loaded file. */
  needs?: DataNeed;
}

/** Sets the click-through form. */
export interface CtrPreset extends PresetBase {
  kind: 'ctr';
  form: RunForm;
}

/** Switches to the next-item task and sets its form. */
export interface SeqPreset extends PresetBase {
  kind: 'seq';
  form: SeqForm;
}

/** One run of a queue: its name in the progress line and the form it trains. */
export interface QueuedRun {
  label: string;
  form: RunForm;
}

/** Trains several click-through runs one after another (see runQueue.ts). */
export interface QueuePreset extends PresetBase {
  kind: 'queue';
  /** The runs on the small synthetic slice (the default) or on the loaded file. */
  runs(source: DataSource): QueuedRun[];
}

export type LabPreset = CtrPreset | SeqPreset | QueuePreset;

/** A method's own preset (workers/methods/<id>/spec.ts). */
function methodPreset(methodId: string, id: string): MethodPreset {
  const preset = methodSpecOf(methodId)?.presets?.find((p) => p.id === id);
  if (!preset) throw new Error(`No preset ${id} of method ${methodId}`);
  return preset;
}

/** The click-through form of `preset` over the defaults (other methods' options at theirs). */
export function ctrFormOf(methodId: string, preset: Omit<MethodPreset, 'id' | 'label'>): RunForm {
  const spec = methodSpecOf(methodId);
  if (!spec) throw new Error(`Unknown method ${methodId}`);
  return formWithPreset(formFromConfig(DEFAULT_RUN_CONFIG), spec, {
    id: 'lab-preset',
    label: '',
    ...preset,
  });
}

const CRITEO_SLICE = 'criteo_dac_train_first10k.txt';

const PEP_QUICK = methodPreset('pep', 'pep-quick');
const PEP_PAPER = methodPreset('pep', 'pep-paper-criteo');
const UMEC_CRITEO = methodPreset('umec', 'umec-criteo');

/** The sequence form of a config over the sequence defaults. */
function seqFormOf(overrides: {
  source: SeqRunConfig['source'];
  data?: Partial<SeqRunConfig['data']>;
  train?: Partial<SeqRunConfig['train']>;
  cprec?: Partial<SeqRunConfig['cprec']>;
}): SeqForm {
  return seqFormFromConfig({
    source: overrides.source,
    data: { ...DEFAULT_SEQ_RUN.data, ...overrides.data },
    train: { ...DEFAULT_SEQ_RUN.train, ...overrides.train },
    method: 'cprec',
    cprec: { ...DEFAULT_SEQ_RUN.cprec, ...overrides.cprec },
  });
}

/**
 * The baselines queue: one small synthetic slice and one DeepFM (d = 20), trained dense and
 * compressed four ways to about 10% of the embedding (90% of entries pruned, d′ = d / 10, a tenth
 * of the rows), so the runs sit side by side on the Compare panel's size-against-AUC chart.
 * About a minute in all on wasm (60 s in headless Chromium, 55 s with `npm run lab`, measured
 * while two benchmarks shared the machine's two cores).
 */
const BASELINE_DATA = { seed: 7, numRows: 20000, numFields: 8, maxCardinality: 3000 };
const BASELINE_TRAIN: Partial<TrainConfig> = { ...PEP_QUICK.train, embeddingDim: 20, epochs: 5 };
const BASELINE_RUNS: { label: string; method: string; options: MethodPreset['options'] }[] = [
  { label: 'dense model', method: 'none', options: {} },
  {
    label: 'magnitude pruning to 90% sparsity',
    method: 'magnitude',
    options: { sparsity: 0.9, scope: 'global', fineTuneEpochs: 2 },
  },
  {
    label: 'smaller uniform dimension d′ = 2 (d / 10)',
    method: 'uniform-dim',
    options: { dim: 2 },
  },
  { label: 'hashing to 10% of the rows', method: 'hashing', options: { fraction: 0.1 } },
  {
    label: 'PEP with a 90% sparsity target',
    method: 'pep',
    // The quick demo's fast thresholds; one target, its snapshot retrained for the run's epochs.
    options: { ...PEP_QUICK.options, targets: [90], retrain: 'last', retrainEpochs: 0 },
  },
];

export const LAB_PRESETS: readonly LabPreset[] = [
  {
    id: 'quick-demo',
    kind: 'ctr',
    label: 'Quick demo (synthetic, about a minute)',
    summary:
      'PEP prunes a small DeepFM (d 8) on a synthetic slice to 50, 80 and 90% sparsity and retrains each snapshot: the 90% model’s test AUC and size in under a minute on wasm or a GPU',
    form: ctrFormOf('pep', PEP_QUICK),
  },
  {
    id: 'pep-criteo-paper',
    kind: 'ctr',
    label: 'PEP on Criteo as in the paper',
    summary:
      'DeepFM with PEP’s Criteo settings (d 24, MLP 400-400-400, batch 1024), S₀ = −150, targets of 50k, 30k and 20k non-zero entries: pruning starts after ~145,000 steps, a long run',
    needs: {
      kind: 'ctr',
      formats: ['criteo'],
      text: `Load the Criteo slice (${CRITEO_SLICE}) first`,
    },
    form: ctrFormOf('pep', PEP_PAPER),
  },
  {
    id: 'umec-dlrm-sweep',
    kind: 'ctr',
    label: 'UMEC budget sweep on DLRM',
    summary:
      'UMEC’s DLRM (d 16, top MLP 512-256, SGD 0.1): 10 dense epochs, then FLOPs budgets 0.5, 0.35, 0.18 and 0.1 from the same start, one point each on the test AUC against FLOPs chart',
    needs: {
      kind: 'ctr',
      formats: ['criteo'],
      text: `Load the Criteo slice (${CRITEO_SLICE}) first, with every value kept (minimum count 1) and UMEC’s split (anchors/criteo10k_dlrm_split_seed123.json)`,
    },
    form: ctrFormOf('umec', {
      ...UMEC_CRITEO,
      options: { ...UMEC_CRITEO.options, budget: 0.5, sweep: [0.35, 0.18, 0.1] },
    }),
  },
  {
    id: 'cprec-ml1m',
    kind: 'seq',
    label: 'CpRec on item sequences',
    summary:
      'NextItNet (d 64) compressed by CpRec: 3 blocks cut at 20% and 50% of the items, factor 4, cross-block sharing; up to 8 epochs of ~140 steps (patience 2), a minute or more an epoch on wasm',
    needs: {
      kind: 'sequence',
      text: 'Load the ML-1M sequences (grec_ml1m_ratings_seq20_order.txt) first',
    },
    form: seqFormOf({
      source: 'loaded',
      train: { embeddingDim: 64, epochs: 8, earlyStoppingPatience: 2 },
      cprec: { cutPoints: [0.2, 0.5], factor: 4, sharing: 'cross-block' },
    }),
  },
  {
    id: 'cprec-quick',
    kind: 'seq',
    label: 'CpRec quick demo (synthetic sequences)',
    summary:
      'CpRec’s defaults on 3,000 synthetic sessions of 12 over 600 items, d 32, 4 epochs at learning rate 0.005: about 15 s on wasm, about twice the most-popular baseline’s MRR@5',
    form: seqFormOf({
      source: 'synthetic',
      data: { numSequences: 3000, numItems: 600, length: 12 },
      train: { embeddingDim: 32, epochs: 4, learningRate: 0.005 },
    }),
  },
  {
    id: 'baselines-vs-pep',
    kind: 'queue',
    label: 'Baselines vs PEP at 90% sparsity',
    summary:
      'Five runs in turn on one synthetic slice and DeepFM (d 20): dense, magnitude pruning to 90%, d′ = 2, hashing to 10% of the rows, PEP at 90%; about a minute on wasm, then Compare runs',
    runs: (source) =>
      BASELINE_RUNS.map((run) => ({
        label: run.label,
        form: ctrFormOf(run.method, {
          summary: '',
          source,
          data: BASELINE_DATA,
          train: BASELINE_TRAIN,
          options: run.options,
        }),
      })),
  },
];

export function presetById(id: string): LabPreset | null {
  return LAB_PRESETS.find((p) => p.id === id) ?? null;
}

/** Whether the preset trains on the loaded file (for a queue: when asked to). */
export function presetNeeds(preset: LabPreset, queueSource: DataSource): DataNeed | null {
  if (preset.kind === 'queue') {
    return queueSource === 'loaded'
      ? { kind: 'ctr', text: 'Load a click-through file (e.g. the Criteo slice) first' }
      : null;
  }
  return preset.needs ?? null;
}

/** What is missing for `need` with `loaded` in the worker (null: nothing). */
export function missingData(
  need: DataNeed | null,
  loaded: LoadedDatasetInfo | null,
): string | null {
  if (!need) return null;
  const what = need.kind === 'ctr' ? 'click-through file' : 'sequence file';
  if (!loaded) return `${need.text}: no file is loaded yet`;
  if (loaded.kind !== need.kind)
    return `${need.text}: the file loaded (${loaded.name}) is not a ${what}`;
  if (need.formats && !need.formats.some((f) => loaded.format.startsWith(f)))
    return `${need.text}: the file loaded (${loaded.name}, ${loaded.formatDescription}) is another kind of data`;
  return null;
}

/** Every problem the existing validation finds in a preset's forms (empty: valid). */
export function presetErrors(preset: LabPreset, queueSource: DataSource = 'synthetic'): string[] {
  const named = (errors: Record<string, string | undefined>, prefix = '') =>
    Object.entries(errors)
      .filter(([, message]) => message)
      .map(([key, message]) => `${prefix}${key}: ${message}`);
  switch (preset.kind) {
    case 'ctr':
      return named(configFromForm(preset.form).errors);
    case 'seq':
      return named(seqConfigFromForm(preset.form).errors);
    case 'queue':
      return preset
        .runs(queueSource)
        .flatMap((run) => named(configFromForm(run.form).errors, `${run.label}: `));
  }
}

export interface ApplyOptions {
  /** A queue's data: the small synthetic slice (default) or the loaded file. */
  queueSource?: DataSource;
  /** Starts a queue preset's runs (the lab's run queue); not called for the other presets. */
  startQueue?: (name: string, runs: QueuedRun[]) => void;
  /** Whether a queue of runs is in progress (presets wait for it). */
  queueActive?: boolean;
}

export interface ApplyOutcome {
  /** The forms were set (and, for a queue, its runs started). */
  applied: boolean;
  banner: Pick<Banner, 'kind' | 'message'>;
}

/**
 * Applies a preset through the form stores: the click-through form, or the sequence form with the
 * task switched. When it needs a file that is not loaded, the form is set all the same and the
 * banner says what to load. Refused while a run holds the engine or a queue runs; a queue is not
 * started when its data is missing or any of its forms is invalid.
 */
export function applyPreset(preset: LabPreset, options: ApplyOptions = {}): ApplyOutcome {
  const lab = useLabStore.getState();
  const seq = useSeqStore.getState();
  const outcome = (applied: boolean, kind: Banner['kind'], message: string): ApplyOutcome => {
    lab.showBanner(kind, message);
    return { applied, banner: { kind, message } };
  };
  if (isRunBusy(lab.run.state) || isRunBusy(seq.run.state) || options.queueActive) {
    return outcome(false, 'error', `Stop the run in progress to apply “${preset.label}”`);
  }
  const queueSource = options.queueSource ?? 'synthetic';
  const missing = missingData(presetNeeds(preset, queueSource), useDatasetStore.getState().loaded);
  const errors = presetErrors(preset, queueSource);
  if (preset.kind === 'queue') {
    const runs = preset.runs(queueSource);
    useSeqStore.setState({ task: 'ctr' });
    lab.replaceForm(runs[0].form);
    if (missing) return outcome(false, 'error', `${preset.label} not started. ${missing}.`);
    if (errors.length > 0)
      return outcome(false, 'error', `${preset.label} not started: ${errors.join('; ')}`);
    options.startQueue?.(preset.label, runs);
    return outcome(
      true,
      'info',
      `${preset.label}: ${runs.length} runs queued; each lands in the runs table (Cancel stops the ones after the current run)`,
    );
  }
  if (preset.kind === 'ctr') {
    useSeqStore.setState({ task: 'ctr' });
    lab.replaceForm(preset.form);
  } else {
    useSeqStore.setState({ task: 'seq', form: preset.form });
  }
  if (missing) return outcome(true, 'error', `Preset applied: ${preset.label}. ${missing}.`);
  if (errors.length > 0) {
    return outcome(true, 'error', `Preset applied: ${preset.label}, but: ${errors.join('; ')}`);
  }
  return outcome(true, 'info', `Preset applied: ${preset.label}. ${preset.summary}.`);
}
