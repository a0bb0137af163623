/**
 * UMEC in the lab: a run is
 * 1. (optional) the dense model trained first, as the official code starts from a trained DLRM;
 * 2. per budget: the solver (primal-dual, as the official code; or ADMM) until the budget is met,
 *    then the hard prune (a physically smaller model: dropped fields' tables and the rows and
 *    columns of dropped neurons removed) and a fine-tune with early stopping on validation;
 * 3. a budget sweep runs every further budget the same way from the same dense start.
 */
import type { CtrDataset } from '../../data/dataset';
import { ModelCheckpoint } from '../../engine/checkpoint';
import { buildModel } from '../../models/buildModel';
import type { RankingModel } from '../../models/rankingModel';
import type { MethodPoint } from '../../protocol';
import { Rng } from '../../rng';
import type { CompressionMethod, MethodOptions, MethodPhase, PhaseContext } from '../method';
import { AdmmSolver, type AdmmSettings } from './admm';
import { importanceFactors } from './fieldImportance';
import { PrimalDualSolver, type PrimalDualSettings } from './primalDual';
import { projectBudget, type UnitScores } from './projection';
import {
  budgetKindLabel,
  budgetRatio,
  minimumBudgetRatio,
  structureRatio,
  type BudgetKind,
  type KeptStructure,
  type PrunableLayout,
} from './resources';
import { UMEC_CHARTED_LAYERS, UMEC_SPEC } from './spec';
import { mlpLayout, umecTarget, unitCounts, type ScoreKind, type UmecTarget } from './target';

/** A dual above this is taken as growing without bound. */
const DUAL_LIMIT = 1e8;
/** Group-norm bars are refreshed every this many steps. */
const VECTOR_EVERY = 10;

/** The prunable layout of the DLRM that `train` builds on `dataset` (before any model exists). */
export function dlrmLayout(
  dataset: CtrDataset,
  topLayers: number[],
  embeddingDim: number,
  fixDense: boolean,
): PrunableLayout {
  const dense = (dataset.numDense ?? 0) > 0;
  return {
    groupSizes: [
      ...(dense ? [embeddingDim] : []),
      ...Array.from(dataset.fieldDims, () => embeddingDim),
    ],
    groupParams: [...(dense ? [0] : []), ...Array.from(dataset.fieldDims, (n) => n * embeddingDim)],
    fixedGroups: [...(dense ? [fixDense] : []), ...Array.from(dataset.fieldDims, () => false)],
    layerSizes: [...topLayers, 1],
  };
}

/** The scores a solver compares units by: 'auto' = relative for primal-dual, raw for ADMM. */
function scoreKindOf(option: string, solver: string): ScoreKind {
  if (option === 'raw' || option === 'layer-mean') return option;
  return solver === 'admm' ? 'raw' : 'layer-mean';
}

/**
 * `structure` plus the strongest pruned units that still fit the budget: the exact projection
 * with every unit `structure` keeps made certain to stay (a score bonus above all the others).
 */
function filledStructure(
  layout: PrunableLayout,
  structure: KeptStructure,
  scores: UnitScores,
  kind: BudgetKind,
  budget: number,
  mode: 'joint' | 'inputs',
): KeptStructure {
  let total = 0;
  for (const values of [scores.groups, ...scores.neurons]) {
    for (let i = 0; i < values.length; i++) total += values[i];
  }
  const bonus = 2 * total + 1;
  const boosted: UnitScores = {
    groups: Float64Array.from(scores.groups, (v, i) => v + (structure.keepGroups[i] ? bonus : 0)),
    neurons: scores.neurons.map((n, l) =>
      Float64Array.from(n, (v, j) => v + (structure.keepNeurons[l][j] ? bonus : 0)),
    ),
  };
  const filled = projectBudget(layout, boosted, kind, budget, mode);
  // The bonus makes the projection keep every unit of `structure` whenever that fits (it does).
  const keepsAll =
    structure.keepGroups.every((k, i) => !k || filled.keepGroups[i]) &&
    structure.keepNeurons.every((m, l) => m.every((k, j) => !k || filled.keepNeurons[l][j]));
  return keepsAll ? filled : structure;
}

const solverLabel = (solver: string) =>
  solver === 'admm' ? 'ADMM (augmented Lagrangian)' : 'primal-dual (official code)';

const ratioText = (r: number) => r.toFixed(4);

export const umecMethod: CompressionMethod = {
  spec: UMEC_SPEC,
  plan: (options, setup) => {
    const mode = options.prune as 'joint' | 'inputs';
    const kind = options.resource as BudgetKind;
    const fixDense = options.fixDense as boolean;
    const layout =
      setup.train.model === 'dlrm'
        ? dlrmLayout(setup.dataset, setup.train.mlpLayers, setup.train.embeddingDim, fixDense)
        : mlpLayout(setup.dataset, setup.train.mlpLayers, setup.train.embeddingDim);
    const budgets = [options.budget as number, ...(options.sweep as number[])];
    const minimum = minimumBudgetRatio(layout, kind, mode);
    for (const b of budgets) {
      if (b < minimum) {
        throw new Error(
          `UMEC: budget ${b} is below the smallest model that can exist: ${budgetKindLabel(kind)} ratio ${minimum.toPrecision(4)} (${
            mode === 'inputs'
              ? 'one input field, every neuron'
              : 'one input field and one neuron per layer'
          })`,
        );
      }
    }

    const runState = new UmecRun(options, layout, mode, kind, fixDense, budgets);
    const phases: MethodPhase[] = [];
    if ((options.denseEpochs as number) > 0) phases.push(runState.densePhase());
    phases.push(runState.solvePhase(0), runState.fineTunePhase(0));
    return { phases, dispose: () => runState.dispose() };
  },
};

/** What one budget of the run produced. */
interface BudgetOutcome {
  budget: number;
  flopsRatio: number;
  paramsRatio: number;
  solveSteps: number;
  solveEpochs: number;
  metBudget: boolean;
  testAuc: number;
  testAccuracy: number;
  seconds: number;
}

class UmecRun {
  /** The dense start: weights and the dataset view they were trained on. */
  private denseStart: ModelCheckpoint | null = null;
  private denseDataset: CtrDataset | null = null;
  /** The model the dense start was taken from (replaced after a hard prune). */
  private denseModel: RankingModel | null = null;
  private target: UmecTarget | null = null;
  private pd: PrimalDualSolver | null = null;
  private admm: AdmmSolver | null = null;
  private structure: KeptStructure | null = null;
  private diverged: string | null = null;
  private metBudget = false;
  private lastRound: { primal: number; weight: number; same: boolean } | null = null;
  private budgetStarted = 0;
  private solveSteps = 0;
  private solveEpochs = 0;
  private prunedRatios = { flops: 1, params: 1 };
  /** The groups' held-out importance last measured (the held-out field score only). */
  private importance: Float64Array | null = null;
  private readonly outcomes: BudgetOutcome[] = [];
  private readonly points = {
    auc: [] as MethodPoint[],
    accuracy: [] as MethodPoint[],
  };

  constructor(
    private readonly options: MethodOptions,
    private readonly layout: PrunableLayout,
    private readonly mode: 'joint' | 'inputs',
    private readonly kind: BudgetKind,
    private readonly fixDense: boolean,
    private readonly budgets: number[],
  ) {}

  private get solver(): string {
    return this.options.solver as string;
  }

  /** The budget now: the live option for the first budget, the sweep's value after it. */
  private budgetOf(index: number): number {
    return index === 0 ? (this.options.budget as number) : this.budgets[index];
  }

  private recordResource(ctx: PhaseContext, flops: number, params: number, budget: number) {
    ctx.record('flops', flops);
    ctx.record('params', params);
    ctx.record('budget', budget);
  }

  private recordStructure(ctx: PhaseContext, structure: KeptStructure, scores?: Float64Array) {
    const units = unitCounts(this.layout);
    const kept = [
      structure.keepGroups.reduce((a, k) => a + k, 0),
      ...structure.keepNeurons.map((m) => m.reduce((a, k) => a + k, 0)),
    ];
    kept.forEach((k, l) => {
      if (l < UMEC_CHARTED_LAYERS) ctx.record(`pruned-${l}`, 1 - k / units[l]);
    });
    // The bars are refreshed only when the caller read the norms (every VECTOR_EVERY steps).
    if (!scores) return;
    const labels = units.map((_, l) => (l === 0 ? 'fields' : `layer ${l}`));
    ctx.vector('units-kept', kept, labels);
    ctx.vector(
      'units-pruned',
      units.map((u, l) => u - kept[l]),
      labels,
    );
    if (scores && this.target) {
      const norms = Array.from(scores, Math.sqrt);
      ctx.vector(
        'group-kept',
        norms.map((n, i) => (structure.keepGroups[i] ? n : 0)),
        this.target.groupLabels,
      );
      ctx.vector(
        'group-dropped',
        norms.map((n, i) => (structure.keepGroups[i] ? 0 : n)),
        this.target.groupLabels,
      );
      this.recordImportance(ctx, this.target);
    }
  }

  private accuracySeries = async (ctx: PhaseContext) => {
    const metrics = await ctx.scoreValidation();
    return { 'val-accuracy': metrics.accuracy };
  };

  densePhase(): MethodPhase {
    return {
      id: 'dense',
      label: 'Train dense (the solver’s start)',
      budget: { epochs: this.options.denseEpochs as number },
      scoreTest: true,
      afterStep: (ctx) => this.recordResource(ctx, 1, 1, this.budgetOf(0)),
      evaluationSeries: this.accuracySeries,
      end: (ctx, result) => {
        this.keepDenseStart(ctx);
        if (result.test) {
          this.points.auc = [{ x: 1, y: result.test.auc, label: 'dense' }];
          this.points.accuracy = [{ x: 1, y: result.test.accuracy, label: 'dense' }];
          ctx.points('dense-test-auc', this.points.auc);
          ctx.points('dense-test-accuracy', this.points.accuracy);
          Object.assign(ctx.result, {
            denseTestAuc: result.test.auc,
            denseTestAccuracy: result.test.accuracy,
          });
        }
      },
    };
  }

  private keepDenseStart(ctx: PhaseContext): void {
    this.denseStart?.dispose();
    this.denseStart = ModelCheckpoint.take(ctx.model);
    this.denseDataset = ctx.dataset;
    this.denseModel = ctx.model;
  }

  /** Puts the dense start back (a sweep's next budget), rebuilding the dense model if pruned. */
  private restoreDenseStart(ctx: PhaseContext): void {
    if (!this.denseStart || !this.denseDataset) {
      this.keepDenseStart(ctx);
      return;
    }
    if (ctx.model !== this.denseModel) {
      const dense = buildModel(this.denseDataset, ctx.train, new Rng(ctx.train.seed).fork(1));
      ctx.replaceModel(dense, this.denseDataset);
      this.denseModel = dense;
    }
    this.denseStart.restore(ctx.model);
  }

  private targetOf(ctx: PhaseContext): UmecTarget {
    return umecTarget(
      ctx.model,
      ctx.dataset,
      ctx.train,
      this.fixDense,
      scoreKindOf(this.options.scores as string, this.solver),
    );
  }

  private admmSettings(index: number): AdmmSettings {
    return {
      budget: this.budgetOf(index),
      kind: this.kind,
      mode: this.mode,
      rhoGrowth: this.options.rhoGrowth as number,
      rhoMax: this.options.rhoMax as number,
    };
  }

  private pdSettings(index: number): PrimalDualSettings {
    return {
      budget: this.budgetOf(index),
      kind: this.kind,
      sLearningRate: this.options.sLearningRate as number,
      sStep: this.options.sStep as 'official' | 'width',
      yLearningRate: this.options.yLearningRate as number,
      zLearningRate: this.options.zLearningRate as number,
    };
  }

  private get heldOut(): boolean {
    return this.options.fieldScore === 'held-out';
  }

  /**
   * The held-out field score: measures every group's importance on the validation rows and sets
   * the factors the solvers' group scores are multiplied by (fieldImportance.ts). Once per
   * budget, on the model the solver starts from, with every field intact: once the solver shrinks
   * a field, its importance falls with it, so measuring again would echo the solver's own choice
   * rather than inform it (and each measurement costs a forward pass per field).
   */
  private async refreshImportance(ctx: PhaseContext, target: UmecTarget): Promise<void> {
    const importance = await target.importance();
    this.importance = importance;
    target.groupFactors = importanceFactors(importance, this.layout.fixedGroups);
    this.recordImportance(ctx, target);
  }

  private recordImportance(ctx: PhaseContext, target: UmecTarget): void {
    const importance = this.importance;
    if (!importance) return;
    const structure = this.structure;
    const milli = Array.from(importance, (v) => v * 1000);
    ctx.vector(
      'importance-kept',
      milli.map((v, i) => (!structure || structure.keepGroups[i] ? v : 0)),
      target.groupLabels,
    );
    ctx.vector(
      'importance-dropped',
      milli.map((v, i) => (structure && !structure.keepGroups[i] ? v : 0)),
      target.groupLabels,
    );
  }

  solvePhase(index: number): MethodPhase {
    const budget = () => this.budgetOf(index);
    return {
      id: `solve-${index + 1}`,
      label: `${solverLabel(this.solver)}: reach budget ${this.budgets[index]}`,
      budget: { epochs: this.options.solveEpochs as number },
      usePatience: false,
      restoreBest: false,
      begin: async (ctx) => {
        this.budgetStarted = performance.now();
        if (index > 0 || !this.denseStart) this.restoreDenseStart(ctx);
        this.metBudget = false;
        this.lastRound = null;
        this.target = this.targetOf(ctx);
        this.importance = null;
        // A sweep's previous budget's structure must not colour this budget's first bars.
        this.structure = null;
        if (this.heldOut) await this.refreshImportance(ctx, this.target);
        if (this.solver === 'admm') {
          this.admm?.dispose();
          this.admm = await AdmmSolver.start(
            this.target,
            this.options.rho as number,
            this.admmSettings(index),
          );
          this.structure = this.admm.structure;
        } else {
          this.pd = new PrimalDualSolver(
            this.layout,
            this.mode,
            this.options.yInit as number,
            this.options.zInit as number,
          );
          this.structure = this.pd.structure(await this.target.scores());
        }
        ctx.marker(`budget ${budget()}: ${solverLabel(this.solver)}`);
      },
      lossTerm:
        this.solver === 'admm'
          ? () => {
              if (!this.admm) throw new Error('UMEC: the ADMM term without an ADMM solver');
              return this.admm.lossTerm();
            }
          : undefined,
      afterStep: (ctx) => this.solverStep(ctx, index),
      evaluationSeries: this.accuracySeries,
      optionChanged: (key) => {
        if (key === 'rho' && this.admm) this.admm.setRho(this.options.rho as number);
      },
      doneReason: (ctx) => {
        if (this.diverged) return this.diverged;
        if (this.solver === 'admm') {
          const r = this.lastRound;
          const tol = this.options.tolerance as number;
          if (r && this.admm && this.admm.rounds >= 2 && r.same && r.primal <= tol * r.weight) {
            return `W settled on Z after ${this.admm.rounds} rounds (‖W − Z‖ / ‖W‖ = ${(r.primal / r.weight).toExponential(2)})`;
          }
          return null;
        }
        if (this.metBudget) {
          return `budget ${budget()} met at step ${ctx.step}`;
        }
        return null;
      },
      end: async (ctx, result) => {
        this.solveSteps = result.steps;
        this.solveEpochs =
          result.steps / Math.ceil(ctx.dataset.split.train.length / ctx.train.batchSize);
        if (!this.target) return;
        if (this.diverged) {
          // The weights after the divergence are not usable: back to the solver's start.
          this.denseStart?.restore(ctx.model);
          this.admm?.dispose();
          this.admm = null;
          return;
        }
        const scores = await this.target.scores();
        if (this.solver === 'admm' && this.admm) {
          this.structure = this.admm.structure;
          this.admm.dispose();
          this.admm = null;
        } else if (this.pd) {
          this.structure = this.pd.structure(scores);
          if (this.metBudget && this.options.fill) {
            const before = budgetRatio(this.layout, this.kind, this.structure);
            this.structure = filledStructure(
              this.layout,
              this.structure,
              scores,
              this.kind,
              budget(),
              this.mode,
            );
            const after = budgetRatio(this.layout, this.kind, this.structure);
            if (after > before) {
              ctx.marker(
                `budget filled: ${budgetKindLabel(this.kind)} ratio ${ratioText(before)} → ${ratioText(after)} (strongest pruned units put back)`,
              );
            }
          }
        }
        if (!this.structure) return;
        const raw = await this.target.rawScores();
        // The bars as the hard prune will cut (they are otherwise refreshed every VECTOR_EVERY steps).
        this.recordStructure(ctx, this.structure, Float64Array.from(raw.groups));
        Object.assign(ctx.result, {
          groupLabels: this.target.groupLabels.join(','),
          groupNorms: Array.from(raw.groups, Math.sqrt),
          ...(this.importance ? { groupImportance: Array.from(this.importance) } : {}),
        });
        const ratio = budgetRatio(this.layout, this.kind, this.structure);
        if (ratio > budget() && !this.diverged) {
          ctx.marker(
            `budget ${budget()} not reached in ${this.options.solveEpochs} epochs: ${budgetKindLabel(this.kind)} ratio ${ratioText(ratio)}`,
          );
        }
      },
    };
  }

  private async solverStep(ctx: PhaseContext, index: number): Promise<void> {
    const target = this.target;
    if (!target) return;
    if (this.pd) {
      const pd = this.pd;
      const res = await pd.step(target, ctx.learningRate, this.pdSettings(index));
      const structure = pd.structure(res.scores);
      this.structure = structure;
      const flops = structureRatio(this.layout, 'flops', structure);
      const params = structureRatio(this.layout, 'params', structure);
      this.recordResource(ctx, flops, params, this.budgetOf(index));
      if (ctx.phaseStep % VECTOR_EVERY === 0) {
        this.recordStructure(ctx, structure, Float64Array.from((await target.rawScores()).groups));
      } else {
        this.recordStructure(ctx, structure);
      }
      pd.y.forEach((v, l) => {
        if (l < UMEC_CHARTED_LAYERS) ctx.record(`y-${l}`, v);
      });
      ctx.record('z', pd.z);
      if (res.resourceAfter <= this.budgetOf(index)) this.metBudget = true;
      const bad = [pd.z, ...pd.y, ...pd.s].find((v) => !Number.isFinite(v) || v > DUAL_LIMIT);
      if (bad !== undefined) {
        this.diverged = `UMEC diverged at step ${ctx.step}: a dual variable grew without bound (z = ${pd.z.toExponential(2)}, y = ${Array.from(pd.y, (v) => v.toExponential(2)).join(', ')}); the solver’s starting weights were kept`;
      }
      return;
    }
    if (!this.admm) return;
    const admm = this.admm;
    const roundSteps = this.options.roundSteps as number;
    if (ctx.phaseStep % roundSteps === 0) {
      const round = await admm.round(this.admmSettings(index));
      this.lastRound = {
        primal: round.primalResidual,
        weight: round.weightNorm,
        same: round.sameStructure,
      };
      ctx.record('primal-residual', round.primalResidual);
      ctx.record('dual-residual', Math.max(round.dualResidual, 1e-12));
      ctx.record('rho', admm.rho);
      if (!Number.isFinite(round.primalResidual) || round.primalResidual > DUAL_LIMIT) {
        this.diverged = `UMEC (ADMM) diverged at step ${ctx.step}: ‖W − Z‖ = ${round.primalResidual}; the solver’s starting weights were kept`;
      }
    }
    const structure = admm.structure;
    this.structure = structure;
    this.recordResource(
      ctx,
      structureRatio(this.layout, 'flops', structure),
      structureRatio(this.layout, 'params', structure),
      this.budgetOf(index),
    );
    const scores = ctx.phaseStep % VECTOR_EVERY === 0 ? (await target.rawScores()).groups : null;
    this.recordStructure(ctx, structure, scores ? Float64Array.from(scores) : undefined);
  }

  fineTunePhase(index: number): MethodPhase {
    return {
      id: `fine-tune-${index + 1}`,
      label: `Hard prune and fine-tune (budget ${this.budgets[index]})`,
      budget: { epochs: this.options.fineTuneEpochs as number },
      evaluateAtStart: true,
      scoreTest: true,
      skip: () =>
        this.diverged ?? (this.structure && this.target ? null : 'the solver did not run'),
      begin: (ctx) => {
        const structure = this.structure!;
        const target = this.target!;
        this.prunedRatios = {
          flops: structureRatio(this.layout, 'flops', structure),
          params: structureRatio(this.layout, 'params', structure),
        };
        const pruned = target.prune(structure, new Rng(ctx.train.seed).fork(31 + index));
        const before = ctx.model.shape();
        const countParams = (parts: { params: number }[]) =>
          parts.reduce((a, p) => a + p.params, 0);
        ctx.replaceModel(pruned.model, pruned.dataset);
        this.target = null;
        const keptFields = structure.keepGroups.reduce((a, k) => a + k, 0);
        const widths = structure.keepNeurons.map(
          (m) => `${m.length}→${m.reduce((a, k) => a + k, 0)}`,
        );
        ctx.marker(
          `hard prune: ${keptFields} of ${structure.keepGroups.length} input groups, layers ${widths.join(', ')}; FLOPs ratio ${ratioText(this.prunedRatios.flops)}, parameters ${countParams(before.parts)} → ${countParams(ctx.model.shape().parts)}`,
        );
      },
      afterStep: (ctx) =>
        this.recordResource(
          ctx,
          this.prunedRatios.flops,
          this.prunedRatios.params,
          this.budgetOf(index),
        ),
      evaluationSeries: this.accuracySeries,
      end: (ctx, result) => {
        const b = this.budgetOf(index);
        const ratio =
          this.kind === 'flops'
            ? this.prunedRatios.flops
            : this.kind === 'params'
              ? this.prunedRatios.params
              : Math.max(this.prunedRatios.flops, this.prunedRatios.params);
        const outcome: BudgetOutcome = {
          budget: b,
          flopsRatio: this.prunedRatios.flops,
          paramsRatio: this.prunedRatios.params,
          solveSteps: this.solveSteps,
          solveEpochs: this.solveEpochs,
          metBudget: ratio <= b,
          testAuc: result.test?.auc ?? Number.NaN,
          testAccuracy: result.test?.accuracy ?? Number.NaN,
          seconds: (performance.now() - this.budgetStarted) / 1000,
        };
        this.outcomes.push(outcome);
        if (result.test) {
          ctx.points(
            'budget-test-auc',
            this.outcomes.map((o) => ({
              x: o.flopsRatio,
              y: o.testAuc,
              label: `budget ${o.budget}`,
            })),
          );
          ctx.points(
            'budget-test-accuracy',
            this.outcomes.map((o) => ({
              x: o.flopsRatio,
              y: o.testAccuracy,
              label: `budget ${o.budget}`,
            })),
          );
        }
        const list = <K extends keyof BudgetOutcome>(key: K) =>
          this.outcomes.map((o) => Number(o[key]));
        Object.assign(ctx.result, {
          budgets: list('budget'),
          flopsRatios: list('flopsRatio'),
          paramsRatios: list('paramsRatio'),
          solveSteps: list('solveSteps'),
          solveEpochs: list('solveEpochs'),
          budgetsMet: list('metBudget'),
          testAucs: list('testAuc'),
          testAccuracies: list('testAccuracy'),
          secondsPerBudget: list('seconds'),
          flopsRatio: outcome.flopsRatio,
          paramsRatio: outcome.paramsRatio,
          keptFields: ctx.dataset.fieldNames.join(','),
        });
        if (index + 1 < this.budgets.length) {
          ctx.addPhase(this.solvePhase(index + 1));
          ctx.addPhase(this.fineTunePhase(index + 1));
        }
      },
    };
  }

  dispose(): void {
    this.denseStart?.dispose();
    this.denseStart = null;
    this.admm?.dispose();
    this.admm = null;
  }
}
