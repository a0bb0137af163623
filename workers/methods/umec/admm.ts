/**
 * The ADMM solver (the paper names its solver ADMM; this is the augmented-Lagrangian method
 * proper, in scaled form), for the prunable weights W = (W_0, ..., W_L):
 *   W-step: SGD on loss(W) + (ρ/2) Σ_l ‖W_l − Z_l + U_l‖² (a loss term, every step);
 *   Z-step (every round of k steps): Z = the projection of W + U onto the structures that fit the
 *           budget: keep the units (input fields, neurons) of largest norm that fit, zero the rest
 *           (projectStructure, exact for FLOPs);
 *   U-step: U += W − Z; then ρ grows by a factor up to a cap (U rescaled by ρ_old / ρ_new, as
 *           the scaled form requires).
 * Residuals per round: primal ‖W − Z‖, dual ρ‖Z − Z_prev‖. Z always fits the budget, so the hard
 * prune at the end (to Z's structure) always meets it; how much the prune costs depends on how
 * close W has come to Z.
 */
import * as tf from '@tensorflow/tfjs';
import { sumTensors } from '../../models/sumTensors';
import { projectBudget, type UnitScores } from './projection';
import type { BudgetKind, KeptStructure } from './resources';
import { rowSquares, solverScores, type UmecTarget } from './target';

export interface AdmmSettings {
  budget: number;
  kind: BudgetKind;
  mode: 'joint' | 'inputs';
  rhoGrowth: number;
  rhoMax: number;
}

export interface AdmmRound {
  primalResidual: number;
  dualResidual: number;
  /** ‖W‖, to read the primal residual as a share. */
  weightNorm: number;
  /** Whether Z kept the structure of the round before. */
  sameStructure: boolean;
}

function sameMasks(a: KeptStructure, b: KeptStructure): boolean {
  const eq = (x: Uint8Array, y: Uint8Array) => x.every((v, i) => v === y[i]);
  return eq(a.keepGroups, b.keepGroups) && a.keepNeurons.every((m, l) => eq(m, b.keepNeurons[l]));
}

export class AdmmSolver {
  rho: number;
  private z: tf.Tensor[];
  private u: tf.Tensor[];
  structure: KeptStructure;
  rounds = 0;

  private constructor(
    private readonly target: UmecTarget,
    rho: number,
    structure: KeptStructure,
    u: tf.Tensor[],
  ) {
    this.rho = rho;
    this.u = u;
    this.structure = structure;
    this.z = this.maskedSum();
  }

  /** Starts with U = 0 and Z = the projection of W. */
  static async start(target: UmecTarget, rho: number, settings: AdmmSettings): Promise<AdmmSolver> {
    const u = target.linears.map((l) => tf.zerosLike(l.weight));
    const structure = await AdmmSolver.project(target, u, settings);
    return new AdmmSolver(target, rho, structure, u);
  }

  /** (ρ/2) Σ ‖W − Z + U‖²; inside the gradient tape. */
  lossTerm(): tf.Scalar {
    const terms = this.target.linears.map((l, i) =>
      tf.sum(tf.square(tf.add(tf.sub(l.weight, this.z[i]), this.u[i]))),
    );
    return tf.mul(this.rho / 2, sumTensors(terms)) as tf.Scalar;
  }

  /** Scores of W + U (the point the Z-step projects). */
  private static async scoresOfSum(target: UmecTarget, u: tf.Tensor[]): Promise<UnitScores> {
    const rows = await Promise.all(
      target.linears.map(async (l, i) => {
        const sum = tf.tidy(() => tf.add(l.weight, u[i]));
        try {
          return await rowSquares(sum);
        } finally {
          sum.dispose();
        }
      }),
    );
    const groups = Float64Array.from(target.groups, (g) => {
      let s = 0;
      for (let r = g.start; r < g.start + g.size; r++) s += rows[0][r];
      return s;
    });
    return solverScores({ groups, neurons: rows.slice(1) }, target.groupFactors, target.scoreKind);
  }

  private static async project(
    target: UmecTarget,
    u: tf.Tensor[],
    settings: AdmmSettings,
  ): Promise<KeptStructure> {
    return projectBudget(
      target.layout,
      await AdmmSolver.scoresOfSum(target, u),
      settings.kind,
      settings.budget,
      settings.mode,
    );
  }

  /** Row mask of layer l's weight for `structure`. */
  private rowMask(l: number, structure: KeptStructure): tf.Tensor2D {
    const linear = this.target.linears[l];
    const mask = new Float32Array(linear.inFeatures);
    if (l === 0) {
      this.target.groups.forEach((g, i) => {
        if (structure.keepGroups[i]) mask.fill(1, g.start, g.start + g.size);
      });
    } else {
      structure.keepNeurons[l - 1].forEach((k, j) => (mask[j] = k));
    }
    return tf.tensor2d(mask, [mask.length, 1]);
  }

  /** Z = (W + U) with the rows of dropped units zeroed. */
  private maskedSum(): tf.Tensor[] {
    return this.target.linears.map((l, i) =>
      tf.tidy(() => tf.mul(tf.add(l.weight, this.u[i]), this.rowMask(i, this.structure))),
    );
  }

  /** One Z-step and U-step, then ρ's growth. */
  async round(settings: AdmmSettings): Promise<AdmmRound> {
    const previous = this.structure;
    this.structure = await AdmmSolver.project(this.target, this.u, settings);
    const zPrev = this.z;
    this.z = this.maskedSum();
    const norms = tf.tidy(() => {
      const w = this.target.linears.map((l) => l.weight);
      const sq = (ts: tf.Tensor[]) => sumTensors(ts.map((t) => tf.sum(tf.square(t))));
      return tf.stack([
        sq(w.map((x, i) => tf.sub(x, this.z[i]))),
        sq(this.z.map((x, i) => tf.sub(x, zPrev[i]))),
        sq(w),
      ]);
    });
    const [primal2, change2, weight2] = await norms.data();
    norms.dispose();
    const nextU = this.target.linears.map((l, i) =>
      tf.tidy(() => tf.add(this.u[i], tf.sub(l.weight, this.z[i]))),
    );
    const nextRho = Math.min(settings.rhoMax, this.rho * settings.rhoGrowth);
    const rescale = this.rho / nextRho;
    const dualResidual = this.rho * Math.sqrt(change2);
    for (const t of [...this.u, ...zPrev]) t.dispose();
    this.u = rescale === 1 ? nextU : nextU.map((t) => tf.tidy(() => tf.mul(t, rescale)));
    if (rescale !== 1) nextU.forEach((t) => t.dispose());
    this.rho = nextRho;
    this.rounds++;
    return {
      primalResidual: Math.sqrt(primal2),
      dualResidual,
      weightNorm: Math.sqrt(weight2),
      sameStructure: sameMasks(previous, this.structure),
    };
  }

  /** A new ρ set by the user: the scaled dual U is rescaled so that ρU stays the same. */
  setRho(rho: number): void {
    const rescale = this.rho / rho;
    this.u = this.u.map((t) => {
      const next = tf.tidy(() => tf.mul(t, rescale));
      t.dispose();
      return next;
    });
    this.rho = rho;
  }

  dispose(): void {
    for (const t of [...this.u, ...this.z]) t.dispose();
    this.u = [];
    this.z = [];
  }
}
