/**
 * Writes a trained NextItNet / CpRec model as a sequence model file (seqModelFile.ts): each
 * variable once (a shared kernel is one tensor), each block's table at its own width.
 */
import type { SequenceDataset } from '../data/preprocess/sequenceDataset';
import { LAB_VERSION } from '../export/exportRun';
import type { EncodedTensor } from '../export/modelFormat';
import { encodeTensor } from '../export/tensorCodec';
import { LN_EPS, type NextItNet } from './nextItNet';
import {
  SEQUENCE_MODEL_FORMAT,
  SEQUENCE_MODEL_VERSION,
  type SequenceModelFile,
} from './seqModelFile';
import type { RankingMetrics, SeqParamCounts, SeqRunConfig } from './seqProtocol';

export async function exportSequenceModel(
  model: NextItNet,
  ds: SequenceDataset,
  config: SeqRunConfig,
  figures: {
    params: SeqParamCounts;
    uncompressed: SeqParamCounts;
    validation: RankingMetrics | null;
    test: RankingMetrics | null;
    popularityTest: RankingMetrics | null;
  },
): Promise<SequenceModelFile> {
  const tensors: Record<string, EncodedTensor> = {};
  const put = async (name: string, v: { shape: number[]; data(): Promise<unknown> }) => {
    tensors[name] = encodeTensor('float32', v.shape, (await v.data()) as Float32Array);
  };
  for (let k = 0; k < model.inputTables.length; k++) {
    await put(`input.E${k}`, model.inputTables[k]);
    if (k > 0) {
      await put(`input.P${k}`, model.inputProjections[k - 1]);
      await put(`softmax.Q${k}`, model.tailQ[k - 1]);
      await put(`softmax.F${k}`, model.tailF[k - 1]);
    }
  }
  for (let j = 0; j < model.kernels.length; j++) {
    await put(`conv.W${j}`, model.kernels[j]);
    await put(`conv.b${j}`, model.kernelBiases[j]);
  }
  for (let c = 0; c < model.lnGamma.length; c++) {
    await put(`ln.gamma${c}`, model.lnGamma[c]);
    await put(`ln.beta${c}`, model.lnBeta[c]);
  }
  await put('softmax.H', model.headW);
  if (model.headB) await put('softmax.b', model.headB);
  const a = model.arch;
  const { params, uncompressed } = figures;
  return {
    format: SEQUENCE_MODEL_FORMAT,
    version: SEQUENCE_MODEL_VERSION,
    createdAt: new Date().toISOString(),
    labVersion: LAB_VERSION,
    dataset: { name: ds.name, itemTokens: ds.itemTokens, maxLen: ds.maxLen, paddingTokens: ['-1'] },
    architecture: {
      model: 'nextitnet',
      dim: a.dim,
      dilations: a.dilations,
      cuts: a.cuts,
      blockDims: a.blockDims,
      sharing: a.sharing,
      kernelOf: model.kernelOf,
      layerNormEps: LN_EPS,
    },
    compression: {
      method: config.method,
      label: config.method === 'cprec' ? 'CpRec' : 'None (NextItNet)',
      options: config.method === 'cprec' ? { ...config.cprec } : {},
      plan: {
        parameters: {
          input: params.input,
          middle: params.middle,
          softmax: params.softmax,
          total: params.total,
        },
        uncompressedParameters: {
          input: uncompressed.input,
          middle: uncompressed.middle,
          softmax: uncompressed.softmax,
          total: uncompressed.total,
        },
        compressionRatio: uncompressed.total / params.total,
        distinctKernels: params.distinctKernels,
      },
    },
    tensors,
    metrics: {
      validation: figures.validation,
      test: figures.test,
      popularityTest: figures.popularityTest,
      parameters: params.total,
      weightBytes: params.total * 4,
      uncompressedWeightBytes: uncompressed.total * 4,
    },
    config,
  };
}
