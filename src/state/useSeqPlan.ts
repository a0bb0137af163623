import { useMemo } from 'react';
import type { SeqDatasetSummary, SeqRunConfig } from '../../workers/sequence/seqProtocol';
import { useDatasetStore } from './datasetStore';
import { seqDataKey } from './seqController';
import { paramBreakdown, type ParamBreakdown } from './seqFigures';
import { seqConfigFromForm, type SeqFormErrors } from './seqForm';
import { useSeqStore } from './seqStore';

/** Form key of the architecture's problem (a cut point outside the vocabulary...). */
export const ARCH_ERROR_KEY = 'seq.architecture';

export interface SeqPlan {
  config: SeqRunConfig;
  /** Problems by form key: the fields', the data's (under 'seq.source') and the architecture's. */
  errors: SeqFormErrors;
  /** What the preview is about (see seqDataKey). */
  dataKey: string;
  /** Whether the settings that name the data are valid (a preview can be asked for). */
  dataValid: boolean;
  /** The engine's description of the form's data, once it has answered for this data. */
  summary: SeqDatasetSummary | null;
  /** Parameters of the model Train would build, and of the uncompressed NextItNet. */
  breakdown: ParamBreakdown | null;
}

/**
 * What Train would run, from the sequence form and the engine's preview of its data: the config,
 * every problem with it (Train waits until there is none) and the parameters by part.
 */
export function useSeqPlan(): SeqPlan {
  const form = useSeqStore((s) => s.form);
  const preview = useSeqStore((s) => s.preview);
  const loaded = useDatasetStore((s) => s.loaded);
  const { config, errors: fieldErrors } = useMemo(() => seqConfigFromForm(form), [form]);
  const dataKey = seqDataKey(config.source, config.data, loaded);
  const current = preview?.key === dataKey ? preview : null;
  const summary = current?.summary ?? null;
  const numItems = summary?.numItems ?? null;
  const arch = useMemo(
    () => (numItems === null ? null : paramBreakdown(config, numItems)),
    [config, numItems],
  );
  const errors: SeqFormErrors = { ...fieldErrors };
  if (current?.error && !errors['seq.source']) errors['seq.source'] = current.error;
  if (arch?.error) errors[ARCH_ERROR_KEY] = arch.error;
  const dataValid =
    !fieldErrors['seq.source'] && !Object.keys(fieldErrors).some((k) => k.startsWith('seq.data.'));
  return { config, errors, dataKey, dataValid, summary, breakdown: arch?.breakdown ?? null };
}
