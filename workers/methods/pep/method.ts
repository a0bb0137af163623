/**
 * PEP in phases, as the official code runs it (ssui-liu/learnable-embed-sizes-for-RecSys):
 * 1. prune: train the model with the soft-thresholded table; after every step count the
 *    non-zeros of V̂; at step 0 keep V̂ (and every weight) as the rewind point; each time the
 *    count reaches a target, snapshot V̂ with the validation AUC at that moment; stop when the
 *    last target is reached (or at the budget, naming the targets not reached);
 * 2. retrain (lottery ticket), per snapshot: every weight back to step 0, V = V̂₀ × mask (or a
 *    fresh init × mask), thresholds off, the whole model trained again with the mask fixed,
 *    early stopping on validation, the test split scored with the best validation weights.
 */
import { initialWeights, type EmbeddingInit } from '../../embedding/featureEmbedding';
import { ModelCheckpoint } from '../../engine/checkpoint';
import type { MethodPoint } from '../../protocol';
import { Rng } from '../../rng';
import type { CompressionMethod, MethodPhase, PhaseContext } from '../method';
import { buildPepEmbedding, type PepEmbedding, type PepSettings } from './pepEmbedding';
import type { PepTable } from './pepTable';
import {
  EntrySample,
  fieldSizes,
  frequencyBuckets,
  sizeByFrequency,
  sizeHistogram,
} from './sizeStats';
import { PEP_SPEC, type PepGranularity } from './spec';

/** Entries sampled for the threshold / magnitude quantiles. */
const SAMPLE_ENTRIES = 2048;
/** The size charts (a pass over the rows) are refreshed at most this often. */
const SIZE_CHARTS_EVERY_MS = 500;
/** The threshold / magnitude quantiles (two sorts of the sample) at most this often. */
const QUANTILES_EVERY_MS = 100;

interface Target {
  label: string;
  /** The snapshot is taken when the non-zeros are at most this. */
  nonZeros: number;
}

interface Snapshot {
  label: string;
  step: number;
  nonZeros: number;
  sparsity: number;
  validationAuc: number;
  mask: Uint8Array;
}

function targetsOf(options: Record<string, unknown>, total: number): Target[] {
  const values = options.targets as number[];
  const asSparsity = options.targetKind === 'sparsity';
  return values
    .map((v) => ({
      label: asSparsity ? `${v}%` : `${v} non-zeros`,
      nonZeros: asSparsity ? Math.floor(total * (1 - v / 100)) : v,
    }))
    .sort((a, b) => b.nonZeros - a.nonZeros);
}

export const pepMethod: CompressionMethod = {
  spec: PEP_SPEC,
  plan: (options, setup) => {
    const { dataset, train } = setup;
    const settings = (): PepSettings => ({
      granularity: options.granularity as PepGranularity,
      thresholdInit: options.thresholdInit as number,
      gk: options.gk as number,
      thresholdWeightDecay: options.thresholdDecay ? train.weightDecay : 0,
      thresholdLearningRateScale:
        (options.thresholdLearningRate as number) > 0
          ? (options.thresholdLearningRate as number) / train.learningRate
          : 1,
    });
    const total = dataset.totalVocabulary * train.embeddingDim;
    let embedding: PepEmbedding | null = null;
    let init: EmbeddingInit = { kind: 'xavier-uniform' };
    let rewind: ModelCheckpoint | null = null;
    let rewindTable: Float32Array | null = null;
    let pending: Target[] = [];
    const snapshots: Snapshot[] = [];
    const retrained: { val: MethodPoint[]; test: MethodPoint[]; dense: MethodPoint[] } = {
      val: [],
      test: [],
      dense: [],
    };
    let sample: EntrySample | null = null;
    let buckets: { bucketOf: Uint8Array; labels: string[] } | null = null;
    let lastSizeCharts = 0;
    let lastQuantiles = 0;

    const tableOf = (): PepTable => {
      if (!embedding) throw new Error('PEP: the model was not built with the PEP embedding');
      return embedding.table;
    };

    const recordSize = (ctx: PhaseContext) => {
      const t = tableOf();
      ctx.record('sparsity', 1 - t.nonZeros / total);
      ctx.record('nonzeros', t.nonZeros);
    };

    const sizeCharts = (ctx: PhaseContext, force: boolean) => {
      const now = performance.now();
      if (!force && now - lastSizeCharts < SIZE_CHARTS_EVERY_MS) return;
      lastSizeCharts = now;
      const t = tableOf();
      const { edges, counts } = sizeHistogram(t);
      ctx.histogram('size', edges, counts);
      ctx.vector('field-size', fieldSizes(t, ctx.dataset), ctx.dataset.fieldNames);
      buckets ??= frequencyBuckets(setup.featureCounts());
      ctx.vector(
        'size-by-frequency',
        sizeByFrequency(t, buckets.bucketOf, buckets.labels.length),
        buckets.labels,
      );
    };

    const takeSnapshots = async (ctx: PhaseContext) => {
      const t = tableOf();
      if (pending.length === 0 || t.nonZeros > pending[0].nonZeros) return;
      let mask: Uint8Array | null = null;
      let validationAuc = Number.NaN;
      while (pending.length > 0 && t.nonZeros <= pending[0].nonZeros) {
        const target = pending.shift() as Target;
        if (!mask) {
          const vhat = t.thresholded();
          mask = new Uint8Array(vhat.length);
          for (let i = 0; i < vhat.length; i++) mask[i] = vhat[i] !== 0 ? 1 : 0;
          validationAuc = (await ctx.scoreValidation()).auc;
        }
        const snapshot: Snapshot = {
          label: target.label,
          step: ctx.step,
          nonZeros: t.nonZeros,
          sparsity: 1 - t.nonZeros / total,
          validationAuc,
          mask,
        };
        snapshots.push(snapshot);
        ctx.keep(`pep.snapshot.${snapshots.length - 1}.mask`, mask);
        ctx.marker(
          `snapshot ${target.label}: ${t.nonZeros} non-zeros (${(100 * snapshot.sparsity).toFixed(1)}% sparse), val AUC ${validationAuc.toFixed(4)}`,
        );
      }
      sizeCharts(ctx, true);
    };

    const retrainPhase = (snapshot: Snapshot | null, index: number): MethodPhase => {
      const label = snapshot ? snapshot.label : 'dense';
      return {
        id: snapshot ? `retrain-${index + 1}` : 'retrain-dense',
        label: snapshot ? `Retrain snapshot ${label}` : 'Retrain dense (reference)',
        budget:
          (options.retrainEpochs as number) > 0
            ? { epochs: options.retrainEpochs as number }
            : undefined,
        scoreTest: true,
        begin: (ctx) => {
          const t = tableOf();
          // Every weight back to step 0: the lottery ticket's rewind.
          rewind?.restore(ctx.model);
          const start = options.reInit
            ? initialWeights(
                t.numRows,
                t.d,
                ctx.dataset.fieldDims,
                init,
                new Rng(ctx.train.seed).fork(97 + index),
              )
            : (rewindTable as Float32Array);
          const mask = snapshot ? snapshot.mask : new Uint8Array(start.length).fill(1);
          t.startRetrain(start, mask);
          sizeCharts(ctx, true);
        },
        afterStep: (ctx) => recordSize(ctx),
        end: (ctx, result) => {
          const t = tableOf();
          const best = result.bestEvaluation;
          if (!best) return;
          const point = (y: number): MethodPoint => ({ x: t.nonZeros, y, label });
          if (snapshot) {
            retrained.val.push(point(best.validationAuc));
            if (result.test) retrained.test.push(point(result.test.auc));
            ctx.points('retrained-val', retrained.val);
            ctx.points('retrained-test', retrained.test);
          } else {
            retrained.dense.push(point(best.validationAuc));
            ctx.points('dense-val', retrained.dense);
          }
          const r = ctx.result;
          const list = (key: string) => ((r[key] as number[] | undefined) ?? []).slice();
          r.retrainedNonZeros = [...list('retrainedNonZeros'), t.nonZeros];
          r.retrainedValidationAuc = [...list('retrainedValidationAuc'), best.validationAuc];
          r.retrainedTestAuc = [...list('retrainedTestAuc'), result.test?.auc ?? Number.NaN];
          r.retrainedLabels = `${r.retrainedLabels ? `${r.retrainedLabels},` : ''}${label}`;
        },
      };
    };

    const prune: MethodPhase = {
      id: 'prune',
      label: 'Prune: learn thresholds',
      // Pruning ends at the targets (or the budget), not at the best validation AUC.
      restoreBest: false,
      usePatience: false,
      begin: (ctx) => {
        const t = tableOf();
        pending = targetsOf(options, total);
        sample = new EntrySample(SAMPLE_ENTRIES, total, ctx.train.seed);
        rewind = ModelCheckpoint.take(ctx.model);
        rewindTable = t.thresholded();
        ctx.keep('pep.rewind', rewindTable);
        sizeCharts(ctx, true);
      },
      afterStep: async (ctx) => {
        recordSize(ctx);
        const now = performance.now();
        if (now - lastQuantiles >= QUANTILES_EVERY_MS) {
          lastQuantiles = now;
          const q = (sample as EntrySample).quantiles(tableOf());
          ['p10', 'p50', 'p90'].forEach((p, i) => {
            ctx.record(`threshold-${p}`, q.threshold[i]);
            ctx.record(`magnitude-${p}`, q.magnitude[i]);
          });
        }
        await takeSnapshots(ctx);
        sizeCharts(ctx, false);
      },
      afterEvaluation: (_m, ctx) => sizeCharts(ctx, true),
      doneReason: () =>
        pending.length === 0 && snapshots.length > 0
          ? `all ${snapshots.length} targets reached`
          : null,
      optionChanged: (key, ctx) => {
        const t = tableOf();
        if (key === 'gk') {
          t.gk = options.gk as number;
          t.recountAll();
        } else if (key === 'thresholdLearningRate') {
          embedding?.setThresholdLearningRateScale(settings().thresholdLearningRateScale);
          ctx.refreshLearningRates();
        } else if (key === 'targets') {
          const taken = new Set(snapshots.map((s) => s.label));
          pending = targetsOf(options, total).filter((x) => !taken.has(x.label));
        }
      },
      end: (ctx) => {
        sizeCharts(ctx, true);
        const r = ctx.result;
        r.snapshotLabels = snapshots.map((s) => s.label).join(',');
        r.snapshotSteps = snapshots.map((s) => s.step);
        r.snapshotNonZeros = snapshots.map((s) => s.nonZeros);
        r.snapshotValidationAuc = snapshots.map((s) => s.validationAuc);
        r.pruneFinalNonZeros = tableOf().nonZeros;
        r.tableEntries = total;
        if (pending.length > 0) {
          const missed = pending.map((x) => x.label).join(', ');
          r.unreachedTargets = missed;
          ctx.marker(`targets not reached within the budget: ${missed}`);
        }
        const mode = options.retrain as string;
        if (mode === 'all') {
          ctx.addPhase(retrainPhase(null, -1));
          snapshots.forEach((s, i) => ctx.addPhase(retrainPhase(s, i)));
        } else if (mode === 'last' && snapshots.length > 0) {
          ctx.addPhase(retrainPhase(snapshots[snapshots.length - 1], snapshots.length - 1));
        }
      },
    };

    return {
      embedding: (req) => {
        init = req.init;
        return (embedding = buildPepEmbedding(req, settings()));
      },
      phases: [prune],
      dispose: () => {
        rewind?.dispose();
        rewind = null;
      },
    };
  },
};
