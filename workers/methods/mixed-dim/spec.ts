import { flagOption, numberOption } from '../../options';
import { CTR_MODELS, type MethodSpec } from '../methodSpec';
import { FIELD_NORM_CHART, FIELD_NORM_SERIES } from '../shared/fieldNorms';

/** Mixed-dimension embeddings by the alpha-power rule (Ginart et al.). */
export const MIXED_DIM_SPEC: MethodSpec = {
  id: 'mixed-dim',
  label: 'Mixed dimensions (MD)',
  summary:
    'Each field gets its own dimension d_f = d · (n_min / n_f)^α (large fields get fewer), projected back to d',
  reference:
    'Ginart et al., Mixed Dimension Embeddings with Application to Memory-Efficient Recommendation Systems (ISIT 2021)',
  order: 50,
  models: CTR_MODELS,
  options: {
    alpha: numberOption({
      label: 'Temperature α',
      help: '0 = every field keeps d; larger α shrinks large fields more (the paper uses 0.2 to 0.4)',
      param: 'alpha',
      default: 0.3,
      min: 0,
      max: 1,
      integer: false,
    }),
    roundToPowerOfTwo: flagOption({
      label: 'Round dimensions to powers of 2',
      help: 'As DLRM’s --md-round-dims',
      param: 'mdpow2',
      default: false,
    }),
  },
  charts: [
    {
      id: 'dims',
      title: 'Dimension per field',
      help: 'd_f chosen by the alpha-power rule from each field’s number of values',
      type: 'bars',
      xLabel: 'field',
      yLabel: 'dimension',
    },
    { ...FIELD_NORM_CHART, help: `${FIELD_NORM_CHART.help} (rows before projection)` },
  ],
  series: [
    { id: 'dim', label: 'd_f', kind: 'vector', chart: 'dims', color: '#2e7d32' },
    FIELD_NORM_SERIES,
  ],
};
