import { CTR_MODELS, type MethodSpec } from '../methodSpec';
import { FIELD_NORM_CHART, FIELD_NORM_SERIES } from '../shared/fieldNorms';

/** The dense model, trained as it is: the reference every compression is measured against. */
export const NONE_SPEC: MethodSpec = {
  id: 'none',
  label: 'None (dense model)',
  summary: 'Trains the uncompressed model: the reference for every method',
  order: 0,
  models: CTR_MODELS,
  options: {},
  charts: [FIELD_NORM_CHART],
  series: [FIELD_NORM_SERIES],
};
