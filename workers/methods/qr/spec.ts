import { choiceOption, numberOption } from '../../options';
import { CTR_MODELS, type MethodSpec } from '../methodSpec';
import { FIELD_NORM_CHART, FIELD_NORM_SERIES } from '../shared/fieldNorms';

/** Quotient-remainder compositional embeddings (Shi et al., KDD 2020). */
export const QR_SPEC: MethodSpec = {
  id: 'qr',
  label: 'Quotient-remainder (QR)',
  summary:
    'Each large field gets two small tables indexed by floor(i / c) and i mod c; a value’s vector combines its two rows',
  reference:
    'Shi et al., Compositional Embeddings Using Complementary Partitions for Memory-Efficient Recommendation Systems (KDD 2020)',
  order: 40,
  models: CTR_MODELS,
  options: {
    collisions: numberOption({
      label: 'Collisions c',
      help: 'Values per quotient row: the quotient table has ceil(n / c) rows, the remainder table c',
      param: 'qrc',
      default: 4,
      min: 2,
      max: 100000,
      integer: true,
    }),
    operation: choiceOption({
      label: 'Combine',
      help: 'How the quotient and remainder rows make a vector (the paper’s default: multiply)',
      param: 'qrop',
      default: 'mult',
      choices: [
        { value: 'mult', label: 'multiply (element-wise)' },
        { value: 'add', label: 'add' },
      ],
    }),
    threshold: numberOption({
      label: 'Smallest field compressed',
      help: 'Fields with at most this many values keep a full table (DLRM’s qr_threshold, 200)',
      param: 'qrmin',
      default: 200,
      min: 0,
      max: 100_000_000,
      integer: true,
    }),
  },
  charts: [
    {
      id: 'rows',
      title: 'Rows stored per field',
      help: 'Quotient plus remainder rows, as a share of the field’s values (1 = not compressed)',
      type: 'bars',
      xLabel: 'field',
      yLabel: 'rows / values',
    },
    FIELD_NORM_CHART,
  ],
  series: [
    { id: 'rows', label: 'rows / values', kind: 'vector', chart: 'rows', color: '#6a4fb3' },
    FIELD_NORM_SERIES,
  ],
};
