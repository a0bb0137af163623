/** What the UI (and the headless runner's result) says about the dataset a run trains on. */
import type { CtrDataset } from '../data/dataset';
import type { SyntheticDataset } from '../data/synthetic';
import type { DatasetSummary } from '../protocol';

export function summarizeCtr(ds: CtrDataset, synthetic: SyntheticDataset | null): DatasetSummary {
  let positives = 0;
  for (let i = 0; i < ds.labels.length; i++) positives += ds.labels[i];
  return {
    source: synthetic ? 'synthetic' : 'loaded',
    name: ds.name,
    numRows: ds.numRows,
    numFields: ds.numFields,
    fieldNames: ds.fieldNames,
    fieldCardinalities: Array.from(ds.fieldDims),
    totalVocabulary: ds.totalVocabulary,
    labelMean: positives / ds.numRows,
    splitSizes: {
      train: ds.split.train.length,
      validation: ds.split.validation.length,
      test: ds.split.test.length,
    },
    bayesTestAuc: synthetic?.bayesTestAuc ?? null,
    informativeFields: synthetic?.informativeFields ?? [],
    noiseFields: synthetic?.noiseFields ?? [],
    redundantFields: synthetic?.redundantFields ?? [],
  };
}
