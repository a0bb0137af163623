/**
 * UMEC's official solver (rc_optimizer.py): primal-dual gradient steps once per minibatch, after
 * the SGD step on W. Per step:
 * 1. proximal step of y_l‖·‖² on the ceil(s_l) smallest groups of each layer: scale them by
 *    1 / (1 + 2 lr y_l) (prox_w);
 * 2. s-step: grad = y_l × the (ceil(s_l)+1)-th smallest group norm (LeastSsum's straight-through
 *    gradient) + z × dR/ds (SteFloor's straight-through gradient), projected at the bounds,
 *    clipped to max-norm 1 (clip_grad_norm_ with norm_type inf), one SGD step of lr_s; s clamped
 *    to [0, units - 1 - 1e-8];
 * 3. dual ascent: y_l += lr_y × the ceil(s_l) smallest groups' squared norm, z += lr_z (R - B),
 *    both projected to >= 0.
 * Group "norms" are squared L2 norms, as weight_list_to_scores computes them. The lab's change to
 * the step (an option, off in the official preset), 'width': the step is taken on each layer's
 * pruned share s_l / units_l instead of on s_l (gradient and step both scaled by the width), so
 * that a 512-wide layer, whose single neuron costs 1/12 of a field's FLOPs, moves as fast in share
 * as the 27 input fields.
 */
import {
  officialResourceRatio,
  resourcesOf,
  type BudgetKind,
  type PrunableLayout,
} from './resources';
import type { UnitScores } from './projection';
import { unitCounts, type UmecTarget } from './target';
import type { KeptStructure } from './resources';

export interface PrimalDualSettings {
  budget: number;
  kind: BudgetKind;
  /** SGD step of s; per unit ('official') or share of the layer's units ('width'). */
  sLearningRate: number;
  sStep: 'official' | 'width';
  yLearningRate: number;
  zLearningRate: number;
}

export interface PrimalDualStep {
  /** The resource ratio at ceil(s) before this step's s update (what the official loop prints). */
  resourceBefore: number;
  /** The resource ratio at ceil(s) after it: the structure a hard prune would now make. */
  resourceAfter: number;
  /** The units' scores after the proximal step. */
  scores: UnitScores;
}

/** Indices of `scores` sorted ascending (ties: lower index first), fixed units last. */
function ascending(scores: ArrayLike<number>, fixed: boolean[] | null): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  const key = (i: number) => (fixed?.[i] ? Number.POSITIVE_INFINITY : scores[i]);
  order.sort((a, b) => key(a) - key(b) || a - b);
  return order;
}

/**
 * ‖W_l‖²_s: the sum of the `count` smallest scores, and its straight-through gradient with respect
 * to s (rc_utils.LeastSsum): the (count + 1)-th smallest score, or the largest when `count` covers
 * every unit. Fixed units (never pruned) are left out.
 */
export function leastSum(
  scores: ArrayLike<number>,
  count: number,
  fixed: boolean[] | null = null,
): { sum: number; gradient: number } {
  const order = ascending(scores, fixed);
  const prunable = fixed ? order.length - fixed.filter(Boolean).length : order.length;
  let sum = 0;
  for (let k = 0; k < Math.min(count, prunable); k++) sum += scores[order[k]];
  let gradient = 0;
  if (count < prunable) gradient = scores[order[count]];
  else for (let k = 0; k < prunable; k++) gradient = Math.max(gradient, scores[order[k]]);
  return { sum, gradient };
}

export class PrimalDualSolver {
  /** Prune count of each unit layer (groups, then neurons of each hidden layer). */
  readonly s: Float64Array;
  readonly y: Float64Array;
  z: number;
  /** Upper bound of each s: units - 1 (prunable groups when some are fixed) - 1e-8. */
  readonly sMax: Float64Array;
  readonly units: number[];
  private readonly mode: 'joint' | 'inputs';

  constructor(
    private readonly layout: PrunableLayout,
    mode: 'joint' | 'inputs',
    yInit: number,
    zInit: number,
  ) {
    this.mode = mode;
    const all = unitCounts(layout);
    this.units = mode === 'inputs' ? all.slice(0, 1) : all;
    const n = this.units.length;
    this.s = new Float64Array(n);
    this.y = new Float64Array(n).fill(yInit);
    this.z = zInit;
    const fixed = layout.fixedGroups.filter(Boolean).length;
    this.sMax = Float64Array.from(this.units, (u, l) => {
      const keepAtLeast = l === 0 && fixed > 0 ? fixed : 1;
      return Math.max(0, u - keepAtLeast - 1e-8);
    });
  }

  /** ceil(s), as the official ceiled_s (punit 1). */
  ceiled(): Float64Array {
    return Float64Array.from(this.s, (v) => Math.ceil(v));
  }

  /**
   * Resource ratio of the structure ceil(s) prunes, and its straight-through gradient. FLOPs: the
   * official flops2. Parameters: the MLP's weights and biases as the same polynomial, plus the
   * tables of the kept fields (the next field to drop gives the gradient of s_0). Both (the
   * lab's): the larger of the two ratios, with the gradient of that one (one constraint
   * max(R_flops, R_params) <= B, one dual z).
   */
  resource(
    kind: BudgetKind,
    ceiled: Float64Array,
    order0: Int32Array,
  ): { ratio: number; gradient: Float64Array } {
    if (kind === 'both') {
      const [flops, params] = resourcesOf(kind).map((k) => this.resource(k, ceiled, order0));
      return flops.ratio >= params.ratio ? flops : params;
    }
    if (kind === 'flops') return officialResourceRatio(this.layout, ceiled, this.mode);
    return paramsRatio(this.layout, ceiled, order0, this.mode);
  }

  /**
   * One solver step after the SGD step on W (`lr` = W's current learning rate): prox on the
   * device weights, then s, then the duals.
   */
  async step(
    target: UmecTarget,
    lr: number,
    settings: PrimalDualSettings,
  ): Promise<PrimalDualStep> {
    const scores = await target.scores();
    const layerScores = this.layerScores(scores);
    const fixed = this.layout.fixedGroups;
    let ceiled = this.ceiled();
    // 1. Proximal step on the ceil(s) smallest groups of each layer.
    layerScores.forEach((sc, l) => {
      const count = ceiled[l];
      if (count <= 0 || this.y[l] === 0) return;
      const factor = 1 / (1 + 2 * lr * this.y[l]);
      const order = ascending(sc, l === 0 ? fixed : null);
      const scale = new Float32Array(sc.length).fill(1);
      for (let k = 0; k < count; k++) {
        scale[order[k]] = factor;
        sc[order[k]] *= factor * factor;
      }
      target.scaleUnits(l, scale);
    });
    const orders = layerScores.map((sc, l) => ascending(sc, l === 0 ? fixed : null));
    // 2. The s-step.
    const before = this.resource(settings.kind, ceiled, orders[0]);
    const grad = new Float64Array(this.s.length);
    const perShare = settings.sStep === 'width';
    layerScores.forEach((sc, l) => {
      const next = leastSum(sc, ceiled[l], l === 0 ? fixed : null).gradient;
      // Per layer width: the gradient with respect to the pruned SHARE σ_l = s_l / units_l, of a
      // penalty taken per unit (y_l · ‖W_l‖²_s / units_l), so that a wide layer's many units do
      // not make its penalty larger: d/dσ = y_l · next + z · units_l · dR/ds_l.
      grad[l] = perShare
        ? this.y[l] * next + this.z * this.units[l] * before.gradient[l]
        : this.y[l] * next + this.z * before.gradient[l];
    });
    for (let l = 0; l < grad.length; l++) {
      if (this.s[l] >= this.sMax[l]) grad[l] = Math.max(grad[l], 0);
      if (this.s[l] <= 0) grad[l] = Math.min(grad[l], 0);
    }
    let maxAbs = 0;
    for (const g of grad) maxAbs = Math.max(maxAbs, Math.abs(g));
    // clip_grad_norm_(s, 1.0, inf): scale by 1 / (norm + 1e-6) when that is below 1.
    const clip = 1 / (maxAbs + 1e-6);
    const scaleGrad = clip < 1 ? clip : 1;
    for (let l = 0; l < grad.length; l++) {
      const stepSize =
        settings.sStep === 'width'
          ? settings.sLearningRate * this.units[l]
          : settings.sLearningRate;
      const overflow = this.s[l] >= this.sMax[l];
      this.s[l] -= stepSize * grad[l] * scaleGrad;
      if (this.s[l] < 0) this.s[l] = 0;
      if (overflow) this.s[l] = this.sMax[l];
      else if (this.s[l] > this.sMax[l]) this.s[l] = this.sMax[l];
    }
    // 3. Dual ascent with the new ceil(s).
    ceiled = this.ceiled();
    layerScores.forEach((sc, l) => {
      const least = leastSum(sc, ceiled[l], l === 0 ? fixed : null).sum;
      const penalty = perShare ? least / this.units[l] : least;
      this.y[l] = Math.max(0, this.y[l] + settings.yLearningRate * penalty);
    });
    const after = this.resource(settings.kind, ceiled, orders[0]);
    this.z = Math.max(0, this.z + settings.zLearningRate * (after.ratio - settings.budget));
    const [groups, ...neurons] = layerScores;
    return {
      resourceBefore: before.ratio,
      resourceAfter: after.ratio,
      scores: {
        groups,
        neurons: scores.neurons.map((n, l) => neurons[l] ?? n),
      },
    };
  }

  /** Scores of the layers the solver prunes (the groups only, for input selection). */
  layerScores(scores: UnitScores): Float64Array[] {
    const all = [
      Float64Array.from(scores.groups),
      ...scores.neurons.map((n) => Float64Array.from(n)),
    ];
    return all.slice(0, this.units.length);
  }

  /** The structure ceil(s) prunes now: the ceil(s_l) smallest units of each layer dropped. */
  structure(scores: UnitScores): KeptStructure {
    const ceiled = this.ceiled();
    const all = [
      Float64Array.from(scores.groups),
      ...scores.neurons.map((n) => Float64Array.from(n)),
    ];
    const keep = all.map((sc, l) => {
      const mask = new Uint8Array(sc.length).fill(1);
      if (l >= ceiled.length) return mask;
      const order = ascending(sc, l === 0 ? this.layout.fixedGroups : null);
      for (let k = 0; k < ceiled[l]; k++) mask[order[k]] = 0;
      return mask;
    });
    return { keepGroups: keep[0], keepNeurons: keep.slice(1) };
  }
}

/**
 * Parameter ratio of the structure ceil(s) prunes: MLP weights and biases (the FLOPs polynomial
 * without the factor 2) plus the kept fields' tables, with the straight-through gradient.
 */
export function paramsRatio(
  layout: PrunableLayout,
  ceiled: ArrayLike<number>,
  order0: Int32Array,
  mode: 'joint' | 'inputs',
): { ratio: number; gradient: Float64Array } {
  const g = layout.groupSizes[0];
  const sizes = layout.layerSizes;
  const s = (l: number) => (mode === 'inputs' && l > 0 ? 0 : (ceiled[l] ?? 0));
  const n = mode === 'inputs' ? 1 : sizes.length;
  const grad = new Float64Array(n);
  let total = 0;
  let dense = 0;
  const inputWidth = layout.groupSizes.reduce((a, b) => a + b, 0);
  let inSize = inputWidth;
  sizes.forEach((out, l) => {
    const inKept = l === 0 ? inSize - s(0) * g : inSize - s(l);
    const last = l === sizes.length - 1;
    const outKept = last ? out : out - s(l + 1);
    total += inKept * outKept + outKept;
    dense += inSize * out + out;
    if (l < n) grad[l] -= (l === 0 ? g : 1) * outKept;
    if (!last && l + 1 < n) grad[l + 1] -= inKept + 1;
    inSize = out;
  });
  let tables = 0;
  for (const p of layout.groupParams) tables += p;
  dense += tables;
  const dropped = s(0);
  for (let k = 0; k < dropped; k++) tables -= layout.groupParams[order0[k]];
  total += tables;
  if (dropped < order0.length) grad[0] -= layout.groupParams[order0[dropped]];
  for (let l = 0; l < n; l++) grad[l] /= dense;
  return { ratio: total / dense, gradient: grad };
}
