/**
 * DLRM on Criteo embeds the 26 categorical columns only; the 13 integer columns enter as dense
 * log(x+1) inputs. The loader also keeps the integers as bucketed categorical fields (for the PEP
 * models), so the DLRM view must drop those: interaction 16 + 26 x 16 = 432, as in UMEC.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../workers/data/loadDataset';
import { generateSyntheticCtr } from '../../../workers/data/synthetic';
import { buildModel } from '../../../workers/models/buildModel';
import type { DlrmModel } from '../../../workers/models/dlrm';
import { datasetForModel, selectFields } from '../../../workers/engine/modelDataset';
import { DEFAULT_TRAIN_CONFIG } from '../../../workers/protocol';
import { Rng } from '../../../workers/rng';
import { HAVE_DATA, fileOf, readData } from '../data/helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the dataset each model sees', () => {
  it('selectFields keeps the chosen columns, their dims and vocabularies, re-offset', () => {
    const ds = generateSyntheticCtr({ seed: 1, numRows: 300, numFields: 5, maxCardinality: 50 });
    const view = selectFields(ds, [1, 3]);
    expect(view.numFields).toBe(2);
    expect(Array.from(view.fieldDims)).toEqual([ds.fieldDims[1], ds.fieldDims[3]]);
    expect(Array.from(view.fieldOffsets)).toEqual([0, ds.fieldDims[1]]);
    expect(view.totalVocabulary).toBe(ds.fieldDims[1] + ds.fieldDims[3]);
    for (let r = 0; r < ds.numRows; r++) {
      expect(view.ids[r * 2]).toBe(ds.ids[r * 5 + 1]);
      expect(view.ids[r * 2 + 1]).toBe(ds.ids[r * 5 + 3]);
    }
    expect(view.labels).toBe(ds.labels);
    expect(view.split).toBe(ds.split);
  });

  it('a dataset without dense features is the same for every model', () => {
    const ds = generateSyntheticCtr({ seed: 1, numRows: 300, numFields: 5, maxCardinality: 50 });
    expect(datasetForModel(ds, 'dlrm')).toBe(ds);
    expect(datasetForModel(ds, 'deepfm')).toBe(ds);
  });

  it.skipIf(!HAVE_DATA)(
    'Criteo: DLRM embeds C1..C26 only (interaction 432, UMEC top-MLP FLOPs 705,793); DeepFM all 39',
    async () => {
      const path = 'criteo/criteo_dac_train_first10k.txt';
      const loaded = await loadDataset([fileOf(path, readData(path))]);
      if (loaded.kind !== 'ctr') throw new Error('expected a CTR dataset');
      const ds = loaded.dataset;
      expect(ds.numFields).toBe(39);
      expect(ds.numDense).toBe(13);
      const view = datasetForModel(ds, 'dlrm');
      expect(view.fieldNames).toEqual(Array.from({ length: 26 }, (_, i) => `C${i + 1}`));
      expect(datasetForModel(ds, 'deepfm')).toBe(ds);

      const cfg = { ...DEFAULT_TRAIN_CONFIG, model: 'dlrm' as const, embeddingDim: 16 };
      const dlrm = buildModel(view, { ...cfg, mlpLayers: [512, 256] }, new Rng(1));
      try {
        const summary = dlrm.shape();
        const embedding = summary.parts.find((p) => p.part === 'embedding')!;
        expect(embedding.params).toBe(view.totalVocabulary * 16);
        // Bottom 13-512-256-64-16 and top 432-512-256-1, 2 x multiply-adds per Linear.
        const bottom = 2 * (13 * 512 + 512 * 256 + 256 * 64 + 64 * 16);
        const top = 2 * (432 * 512 + 512 * 256 + 256 * 1);
        expect(summary.flopsPerExample).toBe(bottom + top);
        expect((dlrm as DlrmModel).topMlpFlops()).toBe(705_793);
      } finally {
        dlrm.dispose();
      }
    },
  );
});
