import { numberOption } from '../../options';
import { CTR_MODELS, type MethodSpec } from '../methodSpec';
import { FIELD_NORM_CHART, FIELD_NORM_SERIES } from '../shared/fieldNorms';

/** The hashing trick: each field's values share a smaller table through a hash. */
export const HASHING_SPEC: MethodSpec = {
  id: 'hashing',
  label: 'Hashing trick',
  summary:
    'Hashes each field’s values into fewer rows (k = a fraction of its values); colliding values share a vector',
  reference: 'Weinberger et al., Feature Hashing for Large Scale Multitask Learning (ICML 2009)',
  order: 30,
  models: CTR_MODELS,
  options: {
    fraction: numberOption({
      label: 'Rows per field (fraction of its values)',
      help: 'Each field with n values gets ceil(fraction · n) rows; 1 keeps the size but values still collide',
      param: 'frac',
      default: 0.25,
      min: 0.001,
      max: 1,
      integer: false,
    }),
  },
  charts: [
    {
      id: 'collisions',
      title: 'Values that share their row',
      help: 'Per field, the share of its values whose hashed row also holds another value',
      type: 'bars',
      xLabel: 'field',
      yLabel: 'share of values',
    },
    FIELD_NORM_CHART,
  ],
  series: [
    { id: 'collided', label: 'collided', kind: 'vector', chart: 'collisions', color: '#c2571a' },
    FIELD_NORM_SERIES,
  ],
};
