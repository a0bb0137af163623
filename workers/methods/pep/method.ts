/**
 * PEP in phases, as the official code runs it (ssui-liu/learnable-embed-sizes-for-RecSys):
 * 1. prune: train the model with the soft-thresholded table; after every step count the
 *    non-zeros of V̂; at step 0 keep V̂ (and every weight) as the rewind point; each time the
 *    count reaches a target, snapshot V̂ with the validation AUC at that moment; stop when the
 *    last target is reached (or at the budget, naming the targets not reached);
 * 2. retrain (lottery ticket), per snapshot: every weight back to step 0, V = V̂₀ × mask (or a
 *    fresh init × mask), thresholds off, the whole model trained again with the mask fixed,
 *    early stopping on validation, the test split scored with the best validation weights.
 *
 * Every snapshot stays exportable after the run (ctx.keepSnapshot, exportRun's `snapshot`): the
 * retrained model when its retrain ran, else the model as it was at the snapshot. What is kept
 * per snapshot is the cheapest that still gives that model back: V̂ packed as the model file
 * stores it (N · ceil(d / 8) bytes of row bitmasks + 4 bytes per non-zero; the bitmasks are also
 * the retrain's mask and the per-feature sizes) and host copies of the other weights (the
 * first-order table, N floats, and the MLP / attention weights, small). Never a dense N x d copy:
 * a ModelCheckpoint would hold V (4 · N · d bytes) per snapshot, a byte-per-entry mask N · d; at
 * 90% sparsity and d = 16 the packed table is 8.4 bytes a row against 64. A snapshot retrained
 * replaces its prune-time copy, so a run keeps one model per snapshot.
 *
 * "Retrain now": while the pruning phase is paused, the user may retrain a snapshot taken so far
 * (prune.retrainSnapshotNow). The trainer runs the same retrain phase on a model of its own (so
 * the pruning model, its optimizer state and the run's random streams stay as they were) and
 * the retrain records its result exactly as at the end of the run. The end-of-run retrain then
 * SKIPS that snapshot and keeps the result recorded while paused (rather than retraining it a
 * second time: the same lottery ticket, trained again, would only differ by the data order).
 * A snapshot skipped as the last of retrain 'last' leaves the run's final model the pruned one.
 */
import { initialWeights, type EmbeddingInit } from '../../embedding/featureEmbedding';
import { ModelCheckpoint } from '../../engine/checkpoint';
import { fieldMeanSizes, unpackMask, type PrunedTable } from '../../embedding/prunedTable';
import { copyArchitectureWeights, type ModelSnapshot } from '../../export/modelSnapshot';
import type { MethodPoint, PhaseResult, TestMetrics } from '../../protocol';
import { Rng } from '../../rng';
import type { RankingModel } from '../../models/rankingModel';
import type { CompressionMethod, MethodPhase, PhaseContext } from '../method';
import { buildPepEmbedding, PepEmbedding, type PepSettings } from './pepEmbedding';
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
  /** V̂ at the snapshot, packed: its row bitmasks are the retrain's mask. */
  table: PrunedTable;
  /** Its retrain's figures, once retrained (pausedAt: the step the run was paused at, if so). */
  retrain: { validationAuc: number; testAuc: number; pausedAt: number | null } | null;
}

/** The PEP embedding of a model built by this method's plan (the run's, or a retrain's own). */
function pepEmbeddingOf(model: RankingModel): PepEmbedding {
  if (!(model.embedding instanceof PepEmbedding)) {
    throw new Error('PEP: the model was not built with the PEP embedding');
  }
  return model.embedding;
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

    /** The table of the model a phase trains (a retrain while paused has a model of its own). */
    const tableOf = (ctx: PhaseContext): PepTable => pepEmbeddingOf(ctx.model).table;

    const recordSize = (ctx: PhaseContext) => {
      const t = tableOf(ctx);
      ctx.record('sparsity', 1 - t.nonZeros / total);
      ctx.record('nonzeros', t.nonZeros);
    };

    const sizeCharts = (ctx: PhaseContext, force: boolean) => {
      const now = performance.now();
      if (!force && now - lastSizeCharts < SIZE_CHARTS_EVERY_MS) return;
      lastSizeCharts = now;
      const t = tableOf(ctx);
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

    /** What a snapshot's model file says about it in its plan. */
    const snapshotPlan = (
      s: Snapshot,
      index: number,
      ctx: PhaseContext,
    ): Record<string, number | string | number[]> => ({
      snapshot: index + 1,
      target: s.label,
      snapshotStep: s.step,
      snapshotNonZeros: s.nonZeros,
      snapshotSparsity: s.sparsity,
      snapshotValidationAuc: s.validationAuc,
      // Mean embedding size (kept entries of d) of each field's features, as stored.
      fieldMeanSize: fieldMeanSizes(s.table, ctx.dataset.fieldDims, ctx.dataset.fieldOffsets),
    });

    const takeSnapshots = async (ctx: PhaseContext) => {
      const t = tableOf(ctx);
      if (pending.length === 0 || t.nonZeros > pending[0].nonZeros) return;
      // Taken once for every target this step reaches: V̂ packed, the validation split scored,
      // the other weights copied (snapshots of one step share them).
      let moment: {
        table: PrunedTable;
        validation: TestMetrics;
        weights: ModelSnapshot['weights'];
      } | null = null;
      while (pending.length > 0 && t.nonZeros <= pending[0].nonZeros) {
        const target = pending.shift() as Target;
        moment ??= {
          table: t.packThresholded(),
          validation: await ctx.scoreValidation(),
          weights: await copyArchitectureWeights(ctx.model),
        };
        const { validation } = moment;
        const snapshot: Snapshot = {
          label: target.label,
          step: ctx.step,
          nonZeros: t.nonZeros,
          sparsity: 1 - t.nonZeros / total,
          validationAuc: validation.auc,
          table: moment.table,
          retrain: null,
        };
        const index = snapshots.length;
        snapshots.push(snapshot);
        ctx.keepSnapshot(index, {
          label: snapshot.label,
          step: snapshot.step,
          retrained: false,
          embedding: moment.table,
          weights: moment.weights,
          metrics: {
            validationAuc: validation.auc,
            validationLogloss: validation.logloss,
            testAuc: null,
            testLogloss: null,
            testAccuracy: null,
          },
          plan: {
            ...snapshotPlan(snapshot, index, ctx),
            model: `not retrained: every weight as at the snapshot (step ${snapshot.step}); validation AUC measured then, no test score`,
          },
        });
        ctx.marker(
          `snapshot ${target.label}: ${t.nonZeros} non-zeros (${(100 * snapshot.sparsity).toFixed(1)}% sparse), val AUC ${validation.auc.toFixed(4)}`,
        );
      }
      sizeCharts(ctx, true);
    };

    /** A retrained snapshot's model (its best validation weights, restored) replaces its copy. */
    const keepRetrained = async (
      ctx: PhaseContext,
      snapshot: Snapshot,
      index: number,
      phaseId: string,
      result: PhaseResult,
      pausedAt: number | null,
    ) => {
      const best = result.bestEvaluation;
      if (!best) return;
      const test = result.test;
      snapshot.retrain = {
        validationAuc: best.validationAuc,
        testAuc: test?.auc ?? Number.NaN,
        pausedAt,
      };
      ctx.keepSnapshot(index, {
        label: snapshot.label,
        step: best.step,
        retrained: true,
        embedding: tableOf(ctx).packThresholded(),
        weights: await copyArchitectureWeights(ctx.model),
        metrics: {
          validationAuc: best.validationAuc,
          validationLogloss: best.validationLogloss,
          testAuc: test?.auc ?? null,
          testLogloss: test?.logloss ?? null,
          testAccuracy: test?.accuracy ?? null,
        },
        plan: {
          ...snapshotPlan(snapshot, index, ctx),
          model: `retrained (lottery ticket, phase ${phaseId}): the best validation evaluation's weights (step ${best.step})`,
          retrainSteps: result.steps,
          retrainBestStep: best.step,
          ...(result.endReason ? { retrainEndReason: result.endReason } : {}),
          ...(pausedAt !== null ? { retrainPausedAt: pausedAt } : {}),
        },
      });
      // The run's figures per snapshot: its retrained validation and test AUC (NaN: none).
      const r = ctx.result;
      const set = (key: string, value: number) => {
        const list = ((r[key] as number[] | undefined) ?? snapshots.map(() => Number.NaN)).slice();
        list[index] = value;
        r[key] = list;
      };
      set('snapshotRetrainedValidationAuc', best.validationAuc);
      set('snapshotTestAuc', test?.auc ?? Number.NaN);
    };

    /**
     * The lottery-ticket retrain of `snapshot` (null: the dense table, the reference), at the end
     * of the run, or now while the run is paused at step `pausedAt` (on a model of its own).
     */
    const retrainPhase = (
      snapshot: Snapshot | null,
      index: number,
      pausedAt: number | null = null,
    ): MethodPhase => {
      const label = snapshot ? snapshot.label : 'dense';
      return {
        id: snapshot ? `retrain-${index + 1}` : 'retrain-dense',
        label: snapshot
          ? `Retrain snapshot ${label}${pausedAt !== null ? ' now' : ''}`
          : 'Retrain dense (reference)',
        budget:
          (options.retrainEpochs as number) > 0
            ? { epochs: options.retrainEpochs as number }
            : undefined,
        scoreTest: true,
        // Retrained while the run was paused: that result is the snapshot's (see the top).
        skip: () => {
          const pausedAt = snapshot?.retrain?.pausedAt ?? null;
          return pausedAt !== null
            ? `retrained while the run was paused at step ${pausedAt}; that result is kept`
            : null;
        },
        begin: (ctx) => {
          const t = tableOf(ctx);
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
          const mask = snapshot ? unpackMask(snapshot.table) : new Uint8Array(start.length).fill(1);
          t.startRetrain(start, mask);
          sizeCharts(ctx, true);
        },
        afterStep: (ctx) => recordSize(ctx),
        end: async (ctx, result) => {
          const t = tableOf(ctx);
          const best = result.bestEvaluation;
          if (!best) return;
          if (snapshot) {
            await keepRetrained(ctx, snapshot, index, `retrain-${index + 1}`, result, pausedAt);
          }
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
        const t = tableOf(ctx);
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
          const q = (sample as EntrySample).quantiles(tableOf(ctx));
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
        const t = tableOf(ctx);
        if (key === 'gk') {
          t.gk = options.gk as number;
          t.recountAll();
        } else if (key === 'thresholdLearningRate') {
          pepEmbeddingOf(ctx.model).setThresholdLearningRateScale(
            settings().thresholdLearningRateScale,
          );
          ctx.refreshLearningRates();
        } else if (key === 'targets') {
          const taken = new Set(snapshots.map((s) => s.label));
          pending = targetsOf(options, total).filter((x) => !taken.has(x.label));
        }
      },
      retrainSnapshotNow: (number, ctx) => {
        const index = number - 1;
        const snapshot = snapshots[index];
        if (!snapshot) {
          throw new Error(
            snapshots.length === 0
              ? 'No snapshot has been taken yet'
              : `There is no snapshot ${number}: the run has taken ${snapshots.length}`,
          );
        }
        if (snapshot.retrain) {
          throw new Error(`Snapshot ${number} (${snapshot.label}) is retrained already`);
        }
        return retrainPhase(snapshot, index, ctx.step);
      },
      end: (ctx) => {
        sizeCharts(ctx, true);
        const r = ctx.result;
        r.snapshotLabels = snapshots.map((s) => s.label).join(',');
        r.snapshotSteps = snapshots.map((s) => s.step);
        r.snapshotNonZeros = snapshots.map((s) => s.nonZeros);
        r.snapshotValidationAuc = snapshots.map((s) => s.validationAuc);
        // Filled in by each snapshot's retrain (NaN while not retrained); a snapshot retrained
        // while the run was paused has its figures already.
        r.snapshotRetrainedValidationAuc = snapshots.map(
          (s) => s.retrain?.validationAuc ?? Number.NaN,
        );
        r.snapshotTestAuc = snapshots.map((s) => s.retrain?.testAuc ?? Number.NaN);
        // Mean embedding size of each field at each snapshot (fields in a row, snapshot after
        // snapshot), and the fields' names: the run card's sizes view.
        r.fieldNames = ctx.dataset.fieldNames.join(',');
        r.snapshotFieldSizes = snapshots.flatMap((s) =>
          fieldMeanSizes(s.table, ctx.dataset.fieldDims, ctx.dataset.fieldOffsets),
        );
        r.pruneFinalNonZeros = tableOf(ctx).nonZeros;
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
      // The run's model, and the model of a snapshot retrained while the run is paused.
      embedding: (req) => {
        init = req.init;
        return buildPepEmbedding(req, settings());
      },
      phases: [prune],
      dispose: () => {
        rewind?.dispose();
        rewind = null;
      },
    };
  },
};
