import { choiceOption, flagOption, numberListOption, numberOption } from '../../options';
import { CTR_MODELS, type MethodSpec } from '../methodSpec';

/** Where the threshold parameter S lives, by granularity (ALGORITHMS: PEP). */
export const PEP_GRANULARITIES = [
  'feature_dim',
  'feature',
  'field_dim',
  'field',
  'dimension',
  'global',
] as const;
export type PepGranularity = (typeof PEP_GRANULARITIES)[number];

/**
 * PEP: Learnable Embedding Sizes for Recommender Systems (Liu et al., ICLR 2021). Soft thresholds
 * learned with the model prune the embedding table entry by entry; snapshots at target sizes are
 * then retrained as lottery tickets.
 */
export const PEP_SPEC: MethodSpec = {
  id: 'pep',
  label: 'PEP (learnable embedding sizes)',
  summary:
    'Learns a soft threshold per entry (V̂ = sign(V)·ReLU(|V| − gk·σ(S))) that prunes the table while it trains, snapshots it at target sizes, then retrains each snapshot from the starting weights with its mask fixed (lottery ticket)',
  reference: 'Liu et al., Learnable Embedding Sizes for Recommender Systems (ICLR 2021)',
  order: 100,
  models: CTR_MODELS,
  options: {
    granularity: choiceOption({
      label: 'Threshold granularity',
      help: 'One threshold per entry (feature_dim, the paper’s default), per feature, per field (× dimension), per dimension, or one for all',
      param: 'gran',
      default: 'feature_dim',
      choices: [
        { value: 'feature_dim', label: 'feature × dimension [N, d]' },
        { value: 'feature', label: 'feature [N, 1]' },
        { value: 'field_dim', label: 'field × dimension [M, d]' },
        { value: 'field', label: 'field [M, 1]' },
        { value: 'dimension', label: 'dimension [d]' },
        { value: 'global', label: 'global [1]' },
      ],
    }),
    thresholdInit: numberOption({
      label: 'Threshold init S₀',
      help: 'Initial S; pruning starts when gk·σ(S) reaches the magnitude of the entries (paper, Criteo: −150; ML-1M: −15)',
      param: 'sinit',
      default: -6,
      min: -1000,
      max: 20,
      integer: false,
    }),
    gk: numberOption({
      label: 'gk (threshold scale)',
      help: 'Multiplies σ(S); 0 turns the thresholds off',
      param: 'gk',
      default: 1,
      min: 0,
      max: 1000,
      integer: false,
      live: true,
    }),
    thresholdDecay: flagOption({
      label: 'Weight decay on S',
      help: 'The official code decays S with every parameter; Adam turns that decay into a climb of about lr per step',
      param: 'sdecay',
      default: true,
    }),
    thresholdLearningRate: numberOption({
      label: 'Learning rate of S',
      help: '0 = the run’s learning rate',
      param: 'slr',
      default: 0,
      min: 0,
      max: 10,
      integer: false,
      live: true,
    }),
    targetKind: choiceOption({
      label: 'Targets are',
      help: 'Targets as sparsity of the table (%) or as counts of non-zero entries',
      param: 'tkind',
      default: 'sparsity',
      choices: [
        { value: 'sparsity', label: 'sparsity (%)' },
        { value: 'nonzeros', label: 'non-zero entries' },
      ],
    }),
    targets: numberListOption({
      label: 'Targets',
      help: 'A snapshot is taken when the table first reaches each one, e.g. 50, 80, 90 (%) or 50000, 20000 (entries)',
      param: 'targets',
      default: [50, 80, 90],
      min: 0,
      max: 1e12,
      integer: false,
      minLength: 1,
      maxLength: 12,
      separator: ',',
      live: true,
    }),
    retrain: choiceOption({
      label: 'Retrain',
      help: 'Lottery-ticket retrain of every snapshot (and of the dense table, the reference), of the last one only, or none',
      param: 'retrain',
      default: 'all',
      choices: [
        { value: 'all', label: 'every snapshot + dense reference' },
        { value: 'last', label: 'the last snapshot' },
        { value: 'none', label: 'none (prune only)' },
      ],
    }),
    reInit: flagOption({
      label: 'Fresh init for retrain',
      help: 'Retrain from a new random init times the mask instead of rewinding to the step-0 weights',
      param: 'reinit',
      default: false,
    }),
    retrainEpochs: numberOption({
      label: 'Retrain epochs',
      help: '0 = the run’s epochs; early stopping on validation as set above',
      param: 'rtepochs',
      default: 0,
      min: 0,
      max: 1000,
      integer: true,
    }),
  },
  charts: [
    {
      id: 'sparsity',
      title: 'Sparsity and non-zeros',
      help: 'Share of the table pruned (left) and non-zero entries (right); a mark at each snapshot',
      type: 'line',
      xLabel: 'step',
      yLabel: 'sparsity',
      rightLabel: 'non-zeros',
    },
    {
      id: 'thresholds',
      title: 'Thresholds meet magnitudes',
      help: 'Quantiles (10/50/90%) of gk·σ(S) (solid) and of |V| (dashed) on a sample of entries, log scale: pruning starts where they meet',
      type: 'line',
      xLabel: 'step',
      yLabel: 'value',
      yScale: 'log',
    },
    {
      id: 'sizes',
      title: 'Embedding sizes',
      help: 'Features by number of non-zero dimensions (their learned embedding size)',
      type: 'histogram',
      xLabel: 'non-zero dimensions',
      yLabel: 'features',
    },
    {
      id: 'field-sizes',
      title: 'Mean size per field',
      help: 'Average non-zero dimensions of each field’s features',
      type: 'bars',
      xLabel: 'field',
      yLabel: 'dimensions',
    },
    {
      id: 'size-frequency',
      title: 'Size against frequency',
      help: 'Average size of the features seen that many times in training: the long tail should get smaller sizes',
      type: 'bars',
      xLabel: 'occurrences in training',
      yLabel: 'dimensions',
    },
    {
      id: 'retrained',
      title: 'Retrained snapshots: AUC against non-zeros',
      help: 'Best validation AUC (and test AUC) of each retrained snapshot; dashed: the dense table retrained the same way',
      type: 'scatter',
      xLabel: 'non-zero entries',
      yLabel: 'AUC',
    },
  ],
  series: [
    { id: 'sparsity', label: 'sparsity', kind: 'step', chart: 'sparsity', color: '#c2571a' },
    {
      id: 'nonzeros',
      label: 'non-zeros',
      kind: 'step',
      chart: 'sparsity',
      color: '#1f5fa8',
      axis: 'right',
    },
    {
      id: 'threshold-p10',
      label: 'gk·σ(S) p10',
      kind: 'step',
      chart: 'thresholds',
      color: '#f0a36b',
    },
    {
      id: 'threshold-p50',
      label: 'gk·σ(S) p50',
      kind: 'step',
      chart: 'thresholds',
      color: '#c2571a',
    },
    {
      id: 'threshold-p90',
      label: 'gk·σ(S) p90',
      kind: 'step',
      chart: 'thresholds',
      color: '#7a3510',
    },
    {
      id: 'magnitude-p10',
      label: '|V| p10',
      kind: 'step',
      chart: 'thresholds',
      color: '#8fb4e3',
      dashed: true,
    },
    {
      id: 'magnitude-p50',
      label: '|V| p50',
      kind: 'step',
      chart: 'thresholds',
      color: '#1f5fa8',
      dashed: true,
    },
    {
      id: 'magnitude-p90',
      label: '|V| p90',
      kind: 'step',
      chart: 'thresholds',
      color: '#0d2c54',
      dashed: true,
    },
    { id: 'size', label: 'features', kind: 'histogram', chart: 'sizes', color: '#2e7d32' },
    {
      id: 'field-size',
      label: 'mean size',
      kind: 'vector',
      chart: 'field-sizes',
      color: '#2e7d32',
    },
    {
      id: 'size-by-frequency',
      label: 'mean size',
      kind: 'vector',
      chart: 'size-frequency',
      color: '#6a4fb3',
    },
    {
      id: 'retrained-val',
      label: 'validation AUC',
      kind: 'points',
      chart: 'retrained',
      color: '#1f5fa8',
    },
    {
      id: 'retrained-test',
      label: 'test AUC',
      kind: 'points',
      chart: 'retrained',
      color: '#7b8794',
    },
    {
      id: 'dense-val',
      label: 'dense (validation)',
      kind: 'points',
      chart: 'retrained',
      color: '#2e7d32',
      dashed: true,
    },
  ],
  check: (options, train): Record<string, string> => {
    const targets = options.targets as number[];
    if (options.targetKind === 'sparsity' && targets.some((t) => !(t > 0 && t < 100))) {
      return { targets: 'Sparsity targets are percentages above 0 and below 100' };
    }
    if (options.targetKind === 'nonzeros' && targets.some((t) => !Number.isInteger(t))) {
      return { targets: 'Non-zero targets are whole numbers of entries' };
    }
    void train;
    return {};
  },
};
