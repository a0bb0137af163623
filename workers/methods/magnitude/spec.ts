import { choiceOption, numberOption } from '../../options';
import { CTR_MODELS, type MethodSpec } from '../methodSpec';
import { FIELD_NORM_CHART, FIELD_NORM_SERIES } from '../shared/fieldNorms';

/** Train dense, zero the smallest-magnitude embedding entries, fine-tune with the mask fixed. */
export const MAGNITUDE_SPEC: MethodSpec = {
  id: 'magnitude',
  label: 'Magnitude pruning',
  summary:
    'Trains the dense model, zeroes the embedding entries of smallest |v| to a target sparsity, then fine-tunes with that mask fixed',
  reference:
    'Han et al., Learning both Weights and Connections for Efficient Neural Networks (NeurIPS 2015)',
  order: 20,
  models: CTR_MODELS,
  options: {
    sparsity: numberOption({
      label: 'Target sparsity',
      help: 'Share of the embedding table’s entries set to zero, e.g. 0.9 keeps 10%',
      param: 'sparsity',
      default: 0.9,
      min: 0.01,
      max: 0.999,
      integer: false,
    }),
    scope: choiceOption({
      label: 'Threshold',
      help: 'One magnitude threshold over the whole table, or one per field (each field keeps the same share)',
      param: 'scope',
      default: 'global',
      choices: [
        { value: 'global', label: 'global' },
        { value: 'per-field', label: 'per field' },
      ],
    }),
    fineTuneEpochs: numberOption({
      label: 'Fine-tune epochs',
      help: 'Epochs of training after pruning, with the pruned entries held at zero (0 = none)',
      param: 'ftepochs',
      default: 2,
      min: 0,
      max: 1000,
      integer: true,
    }),
  },
  charts: [
    {
      id: 'sparsity',
      title: 'Embedding sparsity',
      help: 'Share of the embedding table’s entries that are zero',
      type: 'line',
      xLabel: 'step',
      yLabel: 'sparsity',
    },
    {
      id: 'kept',
      title: 'Entries kept per field',
      help: 'After pruning: the share of each field’s entries that survived',
      type: 'bars',
      xLabel: 'field',
      yLabel: 'share kept',
    },
    {
      id: 'magnitudes',
      title: 'Magnitudes at pruning time',
      help: 'Histogram of log10 |v| over the table when it was pruned; entries below the threshold were zeroed',
      type: 'histogram',
      xLabel: 'log10 |v|',
      yLabel: 'entries',
    },
    FIELD_NORM_CHART,
  ],
  series: [
    { id: 'sparsity', label: 'sparsity', kind: 'step', chart: 'sparsity', color: '#c2571a' },
    { id: 'kept', label: 'kept', kind: 'vector', chart: 'kept', color: '#2e7d32' },
    { id: 'magnitude', label: 'entries', kind: 'histogram', chart: 'magnitudes', color: '#1f5fa8' },
    FIELD_NORM_SERIES,
  ],
};
