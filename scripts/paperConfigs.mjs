// Run configurations with the papers' own Criteo settings (../shared/docs/ALGORITHMS.md), for the
// scripts that train on a loaded file: PEP's FM / DeepFM / Wide&Deep / AutoInt (train_criteo.py)
// and UMEC's DLRM (joint_train.py). Shared by bench-models and crosscheck-pep.

/** PEP: d=24, MLP 400-400-400 with BatchNorm and dropout 0.2, Adam 1e-3 with decay 1e-5 on every
 * parameter, batch 1024, dense ("exact") embedding updates, gradient norm clipped at 100. */
export const PEP_CRITEO = {
  embeddingDim: 24,
  mlpLayers: [400, 400, 400],
  dropout: 0.2,
  batchNorm: true,
  batchSize: 1024,
  learningRate: 1e-3,
  weightDecay: 1e-5,
  denseOptimizer: 'adam',
  gradClipNorm: 100,
  embeddingOptimizer: 'adam',
  embeddingUpdate: 'exact',
};

/** UMEC's DLRM: embeddings of 16, top MLP 512-256-1, plain SGD lr 0.1 on every parameter, batch
 * 128, no regularisation. */
export const UMEC_DLRM = {
  embeddingDim: 16,
  mlpLayers: [512, 256],
  dropout: 0,
  batchNorm: false,
  batchSize: 128,
  learningRate: 0.1,
  weightDecay: 0,
  denseOptimizer: 'sgd',
  gradClipNorm: 0,
  embeddingOptimizer: 'sgd',
  embeddingUpdate: 'lazy',
};

/** A RunConfig on the loaded file for `model` with its paper's settings, then `overrides`. */
export function paperRunConfig(model, overrides = {}) {
  return {
    source: 'loaded',
    data: { seed: 7, numRows: 20000, numFields: 12, maxCardinality: 100000 },
    train: {
      model,
      ...(model === 'dlrm' ? UMEC_DLRM : PEP_CRITEO),
      epochs: 1,
      maxSteps: 0,
      momentum: 0,
      lrSchedule: 'constant',
      evalEverySteps: 0,
      testAtEachEvaluation: false,
      earlyStoppingPatience: 0,
      seed: 1,
      ...overrides,
    },
    method: { id: 'none', options: {} },
  };
}
