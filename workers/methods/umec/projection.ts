/**
 * UMEC's ADMM Z-step (pure, tfjs-free): the Euclidean projection of W + U onto the set of
 * structured-sparse weights that fit the resource budget. Removing a unit zeroes its group of
 * weights, so the squared distance is the sum of the removed units' scores (squared L2 group
 * norms), and the projection keeps the structure with the largest sum of kept scores.
 *
 * Method. For fixed kept counts per unit layer, the best choice keeps the highest-score units of
 * each hidden layer, so the search runs over count vectors (prefix sums of sorted scores are
 * concave and non-decreasing). Input groups have different costs, so layer 0 is summarised by a
 * FRONTIER: the group subsets that are not dominated (cheaper or equal and better), sorted by
 * cost. The middle hidden layers' counts are enumerated (for one hidden layer: the first layer's
 * count); with them fixed, the resource is linear in (the group choice, the last hidden layer's
 * count), so each frontier point's best last-layer count is a closed-form division (the largest
 * count that fits, since the prefix sum is non-decreasing). Branch and bound prunes the
 * enumeration on resource (monotone in every count) and score.
 *
 * Exactness:
 * - kind 'flops': EXACT for any integer group sizes. The group cost depends on the kept input
 *   width only, so the frontier comes from a 0/1 knapsack DP over the width (max score for each
 *   exact kept width), O(groups * input width).
 * - kind 'params': a group's cost is k_1 * size + groupParams (k_1 = kept neurons of hidden layer
 *   1), a knapsack with real costs. EXACT when cheap: when 2^(prunable groups) times the number of
 *   enumerated count vectors is at most `paramsExactMaxWork` and there are at most
 *   `paramsExactMaxGroups` prunable groups, every subset is enumerated. Otherwise APPROXIMATE:
 *   the frontier is the greedy chain by score per unit cost (for each k_1), then the best
 *   candidates are improved by alternating a knapsack local search on the groups (greedy with
 *   skipping, best single group, then add / swap 1-1 / 1-out-2-in / 2-out-1-in moves) with an
 *   exact re-optimisation of the neuron counts for the chosen groups. Always feasible.
 *
 * Cost: DLRM's top MLP (27 groups of 16, [512, 256, 1]) enumerates 512 counts of hidden layer 1;
 * DeepFM's (39 groups, [400, 400, 400, 1]) 400 * 400 pairs (k_1, k_2); four or more hidden layers
 * enumerate the product of the middle widths.
 *
 * Ties are broken deterministically: within a layer the lower index is kept first; between
 * structures of equal score the enumeration prefers the larger one.
 */
import {
  budgetRatio,
  denseResource,
  minimumBudgetRatio,
  minimumBudgetStructure,
  minimumRatio,
  minimumStructure,
  mlpFlops,
  mlpParams,
  structureRatio,
  validateLayout,
  type BudgetKind,
  type KeptStructure,
  type PrunableLayout,
  type PruneMode,
  type ResourceKind,
} from './resources';

/** Per-unit scores, >= 0: squared L2 norms of each unit's group of weights. */
export interface UnitScores {
  /** One score per input group. */
  groups: ArrayLike<number>;
  /** neurons[l - 1]: one score per neuron of hidden layer l. */
  neurons: ArrayLike<number>[];
}

/** Knobs of the 'params' search (defaults suit the lab's models). */
export interface ProjectionOptions {
  /** Most prunable groups for the exact 'params' subset enumeration (default 12, at most 20). */
  paramsExactMaxGroups?: number;
  /** Most (2^prunable groups * enumerated count vectors) for the exact 'params' search (default 2e7). */
  paramsExactMaxWork?: number;
  /** Candidates (best per k_1) improved by the approximate 'params' search (default 8). */
  paramsPolishCandidates?: number;
}

/** Layer-0 options sorted by cost (ascending, scores non-decreasing); tag identifies a subset. */
interface Frontier {
  cost: Float64Array;
  score: Float64Array;
  tag: Int32Array;
  length: number;
}

/** How the groups' frontier is built for a given multiplier (k_1, or the first out width). */
interface GroupModel {
  frontierFor(mult: number): Frontier | null;
  /** Full keepGroups mask (fixed groups included) of a frontier point. */
  decode(mult: number, tag: number): Uint8Array;
}

/** The best count vector found (k[j] = kept neurons of hidden layer j + 1) and its group tag. */
interface Candidate {
  total: number;
  k: Int32Array;
  tag: number;
}

interface Context {
  /** Hidden widths n[0..H-1]. */
  n: number[];
  /** Outputs of the last Linear (never pruned). */
  out: number;
  /** Cost per weight: 2 for FLOPs, 1 for params. */
  a: number;
  /** Input width of the fixed groups. */
  fixedWidth: number;
  /** Embedding params of the fixed groups (0 for FLOPs). */
  fixedExtra: number;
  /** Absolute budget: resource <= budget exactly when resource / dense <= the ratio. */
  budget: number;
  /** prefix[j][c] = sum of the c best scores of hidden layer j + 1. */
  prefix: Float64Array[];
}

const DEFAULT_EXACT_GROUPS = 12;
const MAX_EXACT_GROUPS = 20;
const DEFAULT_EXACT_WORK = 2e7;
const DEFAULT_POLISH = 8;

function nextFloat(x: number, up: boolean): number {
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  bits[0] += up ? 1n : -1n;
  return f[0];
}

/** The largest float B with B / dense <= ratio, so that x <= B exactly when x / dense <= ratio. */
function absoluteBudget(dense: number, ratio: number): number {
  let b = ratio * dense;
  while (b / dense > ratio) b = nextFloat(b, false);
  while (nextFloat(b, true) / dense <= ratio) b = nextFloat(b, true);
  return b;
}

/** Indices sorted by score descending, ties by lower index. */
function sortedByScore(scores: ArrayLike<number>): Int32Array {
  const idx = Int32Array.from({ length: scores.length }, (_, i) => i);
  idx.sort((i, j) => scores[j] - scores[i] || i - j);
  return idx;
}

function checkScores(name: string, scores: ArrayLike<number>, expected: number): void {
  if (scores.length !== expected) {
    throw new Error(`projectStructure: ${name} has ${scores.length} scores, expected ${expected}`);
  }
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!Number.isFinite(v) || v < 0) {
      throw new Error(`projectStructure: ${name}[${i}] = ${v}; scores must be finite and >= 0`);
    }
  }
}

/** Largest index whose cost fits (the best point, as scores are non-decreasing), or -1. */
function lastFitting(fr: Frontier, cap: number): number {
  let lo = 0;
  let hi = fr.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (fr.cost[mid] <= cap) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Keep the non-dominated points of (cost, score) pairs listed in ascending cost order. */
function toFrontier(
  order: ArrayLike<number>,
  cost: ArrayLike<number>,
  score: ArrayLike<number>,
  tag: ArrayLike<number>,
): Frontier {
  const n = order.length;
  const fc = new Float64Array(n);
  const fs = new Float64Array(n);
  const ft = new Int32Array(n);
  let len = 0;
  let bestScore = -Infinity;
  for (let r = 0; r < n; r++) {
    const i = order[r];
    // An equal score at a higher cost is kept: ties prefer the larger structure.
    if (score[i] >= bestScore) {
      if (len > 0 && fc[len - 1] === cost[i]) len--; // same cost, better or equal score
      fc[len] = cost[i];
      fs[len] = score[i];
      ft[len] = tag[i];
      len++;
      bestScore = score[i];
    }
  }
  return { cost: fc, score: fs, tag: ft, length: len };
}

/** FLOPs groups: exact max score for each kept prunable width (0/1 knapsack DP over width). */
function widthDpModel(
  layout: PrunableLayout,
  prunable: number[],
  groupScores: ArrayLike<number>,
  a: number,
  needOne: boolean,
): GroupModel {
  const sizes = prunable.map((g) => layout.groupSizes[g]);
  let total = 0;
  for (const s of sizes) total += s;
  const stride = total + 1;
  const dp = new Float64Array(stride).fill(-Infinity);
  dp[0] = 0;
  const take = new Uint8Array(prunable.length * stride);
  prunable.forEach((g, j) => {
    const size = sizes[j];
    const sc = groupScores[g];
    for (let w = total; w >= size; w--) {
      const cand = dp[w - size] + sc;
      // Strict: a later group replaces an equal-score choice never (lower index kept first).
      if (cand > dp[w]) {
        dp[w] = cand;
        take[j * stride + w] = 1;
      }
    }
  });
  const widths: number[] = [];
  for (let w = 0; w <= total; w++) {
    if (dp[w] === -Infinity || (w === 0 && needOne)) continue;
    widths.push(w);
  }
  const base = toFrontier(
    Int32Array.from(widths.keys()),
    widths,
    widths.map((w) => dp[w]),
    widths,
  );
  const scaled: Frontier = { ...base, cost: new Float64Array(base.length) };
  return {
    frontierFor(mult) {
      if (base.length === 0) return null;
      // Reused between calls: a frontier is only read until the next frontierFor.
      for (let i = 0; i < base.length; i++) scaled.cost[i] = a * mult * base.tag[i];
      return scaled;
    },
    decode(_mult, tag) {
      const keep = new Uint8Array(layout.groupSizes.length);
      layout.fixedGroups.forEach((f, g) => {
        if (f) keep[g] = 1;
      });
      let w = tag;
      for (let j = prunable.length - 1; j >= 0; j--) {
        if (take[j * stride + w]) {
          keep[prunable[j]] = 1;
          w -= sizes[j];
        }
      }
      return keep;
    },
  };
}

/** Params groups, exact: every subset of the prunable groups (cost = a * mult * width + params). */
function subsetModel(
  layout: PrunableLayout,
  prunable: number[],
  groupScores: ArrayLike<number>,
  a: number,
  needOne: boolean,
): GroupModel {
  const n = prunable.length;
  const count = 1 << n;
  const width = new Float64Array(count);
  const extra = new Float64Array(count);
  const score = new Float64Array(count);
  for (let m = 1; m < count; m++) {
    const j = 31 - Math.clz32(m & -m);
    const prev = m & (m - 1);
    const g = prunable[j];
    width[m] = width[prev] + layout.groupSizes[g];
    extra[m] = extra[prev] + layout.groupParams[g];
    score[m] = score[prev] + groupScores[g];
  }
  const masks = Int32Array.from({ length: needOne ? count - 1 : count }, (_, i) =>
    needOne ? i + 1 : i,
  );
  return {
    frontierFor(mult) {
      if (masks.length === 0) return null;
      const cost = new Float64Array(count);
      for (let m = 0; m < count; m++) cost[m] = a * mult * width[m] + extra[m];
      const order = masks.slice().sort((x, y) => cost[x] - cost[y] || score[y] - score[x] || x - y);
      return toFrontier(
        order,
        cost,
        score,
        Int32Array.from({ length: count }, (_, i) => i),
      );
    },
    decode(_mult, tag) {
      const keep = new Uint8Array(layout.groupSizes.length);
      layout.fixedGroups.forEach((f, g) => {
        if (f) keep[g] = 1;
      });
      for (let j = 0; j < n; j++) if (tag & (1 << j)) keep[prunable[j]] = 1;
      return keep;
    },
  };
}

/**
 * Params groups, approximate: the greedy chain by score per unit cost (every prefix of that
 * order) plus every single group (so the cheapest group is always an option). Tags 0..n are
 * prefix lengths, n + 1 + j the single group j.
 */
function greedyChainModel(
  layout: PrunableLayout,
  prunable: number[],
  groupScores: ArrayLike<number>,
  a: number,
  needOne: boolean,
): GroupModel {
  const n = prunable.length;
  const size = Float64Array.from(prunable, (g) => a * layout.groupSizes[g]);
  const extra = Float64Array.from(prunable, (g) => layout.groupParams[g]);
  const gain = Float64Array.from(prunable, (g) => groupScores[g]);
  const identity = Int32Array.from({ length: 2 * n + 1 }, (_, i) => i);
  const unit = new Float64Array(n);
  const ratio = new Float64Array(n);
  const order = new Int32Array(n);
  /** Fills unit (each group's cost) and order (by score per unit cost, ties lower index). */
  const prepare = (mult: number): void => {
    for (let j = 0; j < n; j++) {
      unit[j] = mult * size[j] + extra[j];
      ratio[j] = unit[j] > 0 ? gain[j] / unit[j] : Infinity;
    }
    // Insertion sort: n is small, and it is stable (equal ratios keep the lower index first).
    for (let r = 0; r < n; r++) {
      let q = r;
      while (q > 0 && ratio[order[q - 1]] < ratio[r]) {
        order[q] = order[q - 1];
        q--;
      }
      order[q] = r;
    }
  };
  return {
    frontierFor(mult) {
      prepare(mult);
      const cost = new Float64Array(2 * n + 1);
      const score = new Float64Array(2 * n + 1);
      for (let r = 0; r < n; r++) {
        const j = order[r];
        cost[r + 1] = cost[r] + unit[j];
        score[r + 1] = score[r] + gain[j];
        cost[n + 1 + j] = unit[j];
        score[n + 1 + j] = gain[j];
      }
      const first = needOne ? 1 : 0;
      if (first > 2 * n) return null;
      const rows = identity.slice(first);
      rows.sort((x, y) => cost[x] - cost[y] || score[y] - score[x] || x - y);
      return toFrontier(rows, cost, score, identity);
    },
    decode(mult, tag) {
      const keep = Uint8Array.from(layout.fixedGroups, (f) => (f ? 1 : 0));
      if (tag > n) {
        keep[prunable[tag - n - 1]] = 1;
      } else {
        prepare(mult);
        for (let r = 0; r < tag; r++) keep[prunable[order[r]]] = 1;
      }
      return keep;
    },
  };
}

/** A single fixed group choice (used to re-optimise the neuron counts for chosen groups). */
function singleChoiceModel(
  layout: PrunableLayout,
  keep: Uint8Array,
  groupScores: ArrayLike<number>,
  a: number,
  kind: ResourceKind,
): GroupModel {
  let width = 0;
  let extra = 0;
  let score = 0;
  keep.forEach((k, g) => {
    if (k && !layout.fixedGroups[g]) {
      width += layout.groupSizes[g];
      extra += kind === 'params' ? layout.groupParams[g] : 0;
      score += groupScores[g];
    }
  });
  // Reused between calls: a frontier is only read until the next frontierFor.
  const frontier: Frontier = {
    cost: new Float64Array(1),
    score: Float64Array.of(score),
    tag: Int32Array.of(0),
    length: 1,
  };
  return {
    frontierFor(mult) {
      frontier.cost[0] = a * mult * width + extra;
      return frontier;
    },
    decode() {
      return keep.slice();
    },
  };
}

/**
 * Resource of count vector k (k[j] = kept neurons of hidden layer j + 1) with the fixed groups
 * plus `groupCost` for the prunable groups: a*k_1*W + E + sum k + sum a*k_j*k_{j+1} + a*k_H*o + o.
 */
function countsCost(ctx: Context, k: ArrayLike<number>, groupCost: number): number {
  const { a, out } = ctx;
  const H = k.length;
  let r = a * k[0] * ctx.fixedWidth + ctx.fixedExtra + groupCost + out + a * k[H - 1] * out;
  for (let j = 0; j < H; j++) r += k[j];
  for (let j = 0; j + 1 < H; j++) r += a * k[j] * k[j + 1];
  return r;
}

/**
 * Best count vector and frontier point (H >= 1 hidden layers). perK1, when given, receives the
 * best candidate for each count of hidden layer 1.
 */
function searchCounts(ctx: Context, model: GroupModel, perK1?: Candidate[]): Candidate | null {
  const { n, a, out, budget, prefix } = ctx;
  const H = n.length;
  const k = new Int32Array(H);
  let best: Candidate | null = null;
  // Suffix bound on the neuron score of hidden layers j..H-1 (all kept).
  const fullFrom = new Float64Array(H + 1);
  for (let j = H - 1; j >= 0; j--) fullFrom[j] = fullFrom[j + 1] + prefix[j][n[j]];
  const bestTotal = (): number => (best ? best.total : -Infinity);

  for (let k1 = 1; k1 <= n[0]; k1++) {
    const fr = model.frontierFor(k1);
    if (!fr || fr.length === 0) continue;
    k[0] = k1;
    for (let j = 1; j < H; j++) k[j] = 1;
    // Every cost grows with k1 (the frontier's cheapest point too): nothing larger fits.
    if (countsCost(ctx, k, fr.cost[0]) > budget) break;
    const maxGroupScore = fr.score[fr.length - 1];
    let k1Best: Candidate | null = null;
    const k1BestTotal = (): number => (k1Best ? k1Best.total : -Infinity);
    const offer = (total: number, tag: number): void => {
      // >=: among equal scores the later (larger) structure wins.
      if (!k1Best) k1Best = { total, k: k.slice(), tag };
      else if (total >= k1Best.total) {
        k1Best.total = total;
        k1Best.k.set(k);
        k1Best.tag = tag;
      }
    };

    if (H === 1) {
      const c0 = countsCost(ctx, k, 0);
      const i = lastFitting(fr, budget - c0);
      if (i >= 0) offer(prefix[0][k1] + fr.score[i], fr.tag[i]);
    } else {
      const last = H - 1;
      const visit = (j: number, mid: number): void => {
        // j: the level being chosen (1..H-2 middle, then H-1 in closed form).
        if (j === last) {
          if (mid + maxGroupScore + prefix[last][n[last]] < Math.max(bestTotal(), k1BestTotal()))
            return;
          k[last] = 0;
          const c0 = countsCost(ctx, k, 0); // the last layer's terms vanish with k_H = 0
          const beta = a * k[last - 1] + 1 + a * out;
          for (let i = 0; i < fr.length; i++) {
            const cap = budget - c0 - fr.cost[i];
            if (cap < beta) break;
            let kh = Math.min(n[last], Math.floor(cap / beta));
            while (kh > 0 && c0 + fr.cost[i] + kh * beta > budget) kh--;
            if (kh < 1) break;
            k[last] = kh;
            offer(mid + fr.score[i] + prefix[last][kh], fr.tag[i]);
          }
          return;
        }
        for (let c = 1; c <= n[j]; c++) {
          k[j] = c;
          for (let r = j + 1; r < H; r++) k[r] = 1;
          if (countsCost(ctx, k, fr.cost[0]) > budget) break;
          const m = mid + prefix[j][c];
          if (m + fullFrom[j + 1] + maxGroupScore < Math.max(bestTotal(), k1BestTotal())) continue;
          visit(j + 1, m);
        }
      };
      visit(1, prefix[0][k1]);
    }
    const found = k1Best as Candidate | null;
    if (found) {
      perK1?.push(found);
      if (!best || found.total >= best.total) best = found;
    }
  }
  return best;
}

/** Candidate group set for a knapsack: mask over the prunable groups. */
interface Knapsack {
  cost: Float64Array;
  score: Float64Array;
  cap: number;
  needOne: boolean;
}

function maskValue(ks: Knapsack, mask: Uint8Array): { used: number; value: number } {
  let used = 0;
  let value = 0;
  for (let j = 0; j < mask.length; j++) {
    if (mask[j]) {
      used += ks.cost[j];
      value += ks.score[j];
    }
  }
  return { used, value };
}

/**
 * Approximate 0/1 knapsack (maximise score, cost <= cap): the best of greedy by score per unit
 * cost (skipping what does not fit), the best single item and `start`, then a local search with
 * add, swap 1-1, 1-out-2-in and 2-out-1-in moves. Returns null when nothing feasible exists.
 */
function knapsackLocal(ks: Knapsack, start: Uint8Array | null): Uint8Array | null {
  const { cost, score, cap } = ks;
  const n = cost.length;
  const starts: Uint8Array[] = [];
  const order = Array.from({ length: n }, (_, j) => j).sort((x, y) => {
    const rx = cost[x] > 0 ? score[x] / cost[x] : Infinity;
    const ry = cost[y] > 0 ? score[y] / cost[y] : Infinity;
    if (rx !== ry) return rx > ry ? -1 : 1;
    return x - y;
  });
  const greedy = new Uint8Array(n);
  let used = 0;
  for (const j of order) {
    if (used + cost[j] <= cap) {
      greedy[j] = 1;
      used += cost[j];
    }
  }
  starts.push(greedy);
  let single = -1;
  for (let j = 0; j < n; j++) {
    if (cost[j] <= cap && (single < 0 || score[j] > score[single])) single = j;
  }
  if (single >= 0) {
    const m = new Uint8Array(n);
    m[single] = 1;
    starts.push(m);
  }
  if (start && maskValue(ks, start).used <= cap) starts.push(start.slice());
  let mask: Uint8Array | null = null;
  let bestValue = -Infinity;
  for (const m of starts) {
    const { value } = maskValue(ks, m);
    const empty = m.every((v) => v === 0);
    if (ks.needOne && empty) continue;
    if (value > bestValue) {
      bestValue = value;
      mask = m;
    }
  }
  if (!mask) return null;

  const byScore = Array.from({ length: n }, (_, j) => j).sort(
    (x, y) => score[y] - score[x] || x - y,
  );
  for (;;) {
    let { used: u, value } = maskValue(ks, mask);
    // Add whatever still fits (best scores first).
    for (const j of byScore) {
      if (!mask[j] && u + cost[j] <= cap) {
        mask[j] = 1;
        u += cost[j];
        value += score[j];
      }
    }
    const tol = 1e-12 * (1 + Math.abs(value));
    let gain = tol;
    let move: number[] | null = null; // [out..., -1, in...]
    const kept: number[] = [];
    const free: number[] = [];
    for (let j = 0; j < n; j++) (mask[j] ? kept : free).push(j);
    for (const i of kept) {
      for (let x = 0; x < free.length; x++) {
        const j = free[x];
        const u1 = u - cost[i] + cost[j];
        if (u1 <= cap && score[j] - score[i] > gain) {
          gain = score[j] - score[i];
          move = [i, -1, j];
        }
        for (let y = x + 1; y < free.length; y++) {
          const l = free[y];
          if (u1 + cost[l] <= cap && score[j] + score[l] - score[i] > gain) {
            gain = score[j] + score[l] - score[i];
            move = [i, -1, j, l];
          }
        }
      }
    }
    for (let x = 0; x < kept.length; x++) {
      for (let y = x + 1; y < kept.length; y++) {
        const i = kept[x];
        const i2 = kept[y];
        for (const j of free) {
          if (u - cost[i] - cost[i2] + cost[j] <= cap && score[j] - score[i] - score[i2] > gain) {
            gain = score[j] - score[i] - score[i2];
            move = [i, i2, -1, j];
          }
        }
      }
    }
    if (!move) return mask;
    let removing = true;
    for (const j of move) {
      if (j < 0) removing = false;
      else mask[j] = removing ? 0 : 1;
    }
  }
}

/** Builds the KeptStructure of counts k (top-scoring neurons) and a group mask. */
function buildStructure(
  keepGroups: Uint8Array,
  k: ArrayLike<number>,
  orders: Int32Array[],
  n: number[],
): KeptStructure {
  const keepNeurons = n.map((width, j) => {
    const mask = new Uint8Array(width);
    for (let r = 0; r < k[j]; r++) mask[orders[j][r]] = 1;
    return mask;
  });
  return { keepGroups, keepNeurons };
}

/**
 * The structure with the largest sum of kept scores whose resource ratio is <= budgetRatio:
 * every fixed group kept, at least one group, at least one neuron per hidden layer; mode
 * 'inputs' keeps every neuron and chooses groups only. Exact for kind 'flops'; for 'params'
 * exact when the subset enumeration is cheap (see ProjectionOptions), otherwise the greedy +
 * local-search approximation described at the top of this file (always feasible).
 * Throws when the budget is below the smallest model that can exist (minimumRatio).
 */
export function projectStructure(
  layout: PrunableLayout,
  scores: UnitScores,
  kind: ResourceKind,
  budgetRatio: number,
  mode: PruneMode,
  options: ProjectionOptions = {},
): KeptStructure {
  validateLayout(layout);
  const { groupSizes, groupParams, fixedGroups, layerSizes } = layout;
  const H = layerSizes.length - 1;
  const n = layerSizes.slice(0, H);
  const out = layerSizes[H];
  checkScores('groups', scores.groups, groupSizes.length);
  if (scores.neurons.length !== H) {
    throw new Error(
      `projectStructure: ${scores.neurons.length} hidden layers of neuron scores, expected ${H}`,
    );
  }
  scores.neurons.forEach((s, j) => checkScores(`neurons[${j}]`, s, n[j]));
  if (!Number.isFinite(budgetRatio)) {
    throw new Error(`projectStructure: budget ${budgetRatio} is not a finite ratio`);
  }
  const smallest = minimumStructure(layout, kind, mode);
  const minRatio = structureRatio(layout, kind, smallest.structure);
  if (budgetRatio < minRatio) {
    const label = kind === 'flops' ? 'FLOPs' : 'params';
    throw new Error(
      `budget ${budgetRatio} is below the smallest model that can exist (${label} ratio ` +
        `${minRatio.toPrecision(4)}: ${smallest.description})`,
    );
  }

  const dense = denseResource(layout, kind);
  let budget = absoluteBudget(dense, budgetRatio);
  const integral = kind === 'flops' || groupParams.every((p) => Number.isInteger(p));
  // Non-integer embedding counts: leave a margin for summation-order rounding.
  if (!integral) budget -= dense * 1e-12;

  const a = kind === 'flops' ? 2 : 1;
  const prunable: number[] = [];
  let fixedWidth = 0;
  let fixedExtra = 0;
  for (let g = 0; g < groupSizes.length; g++) {
    if (fixedGroups[g]) {
      fixedWidth += groupSizes[g];
      if (kind === 'params') fixedExtra += groupParams[g];
    } else prunable.push(g);
  }
  const needOne = prunable.length === groupSizes.length;
  const orders = scores.neurons.map((s) => sortedByScore(s));
  const prefix = scores.neurons.map((s, j) => {
    const p = new Float64Array(n[j] + 1);
    for (let r = 0; r < n[j]; r++) p[r + 1] = p[r] + s[orders[j][r]];
    return p;
  });
  const ctx: Context = { n, out, a, fixedWidth, fixedExtra, budget, prefix };

  const maxGroups = Math.min(
    MAX_EXACT_GROUPS,
    options.paramsExactMaxGroups ?? DEFAULT_EXACT_GROUPS,
  );
  const maxWork = options.paramsExactMaxWork ?? DEFAULT_EXACT_WORK;
  const groupsOnly = mode === 'inputs' || H === 0;
  let vectors = 1;
  if (!groupsOnly) for (let j = 0; j < Math.max(1, H - 1); j++) vectors *= n[j];
  const exactParams =
    prunable.length <= maxGroups && Math.pow(2, prunable.length) * vectors <= maxWork;
  const model =
    kind === 'flops'
      ? widthDpModel(layout, prunable, scores.groups, a, needOne)
      : exactParams
        ? subsetModel(layout, prunable, scores.groups, a, needOne)
        : greedyChainModel(layout, prunable, scores.groups, a, needOne);

  let result: KeptStructure;
  if (groupsOnly) {
    // Every neuron kept: the first Linear's outputs multiply the kept input width.
    const full = n.slice();
    const mult = layerSizes[0];
    const base =
      kind === 'flops'
        ? mlpFlops(layout, fixedWidth, full)
        : mlpParams(layout, fixedWidth, full) + fixedExtra;
    const cap = budget - base;
    let keep: Uint8Array | null = null;
    if (kind === 'flops' || exactParams) {
      const fr = model.frontierFor(mult);
      const i = fr ? lastFitting(fr, cap) : -1;
      if (fr && i >= 0) keep = model.decode(mult, fr.tag[i]);
    } else {
      const ks: Knapsack = {
        cost: Float64Array.from(prunable, (g) => mult * groupSizes[g] + groupParams[g]),
        score: Float64Array.from(prunable, (g) => scores.groups[g]),
        cap,
        needOne,
      };
      const mask = knapsackLocal(ks, null);
      if (mask) {
        const chosen = Uint8Array.from(fixedGroups, (f) => (f ? 1 : 0));
        prunable.forEach((g, j) => {
          if (mask[j]) chosen[g] = 1;
        });
        keep = chosen;
      }
    }
    if (!keep) keep = smallest.structure.keepGroups.slice();
    result = buildStructure(keep, full, orders, n);
  } else if (kind === 'flops' || exactParams) {
    const best = searchCounts(ctx, model);
    result = best
      ? buildStructure(model.decode(best.k[0], best.tag), best.k, orders, n)
      : smallest.structure;
  } else {
    result =
      polishParams(layout, ctx, model, prunable, scores, orders, options) ?? smallest.structure;
  }

  if (structureRatio(layout, kind, result) > budgetRatio) {
    throw new Error('projectStructure: internal error, the projected structure exceeds the budget');
  }
  return result;
}

/** Approximate 'params' joint search: greedy-chain candidates improved by alternating search. */
function polishParams(
  layout: PrunableLayout,
  ctx: Context,
  model: GroupModel,
  prunable: number[],
  scores: UnitScores,
  orders: Int32Array[],
  options: ProjectionOptions,
): KeptStructure | null {
  const perK1: Candidate[] = [];
  searchCounts(ctx, model, perK1);
  perK1.sort((x, y) => y.total - x.total || x.k[0] - y.k[0]);
  const needOne = prunable.length === layout.groupSizes.length;
  let best: { total: number; keep: Uint8Array; k: Int32Array } | null = null;
  const groupScore = (keep: Uint8Array): number =>
    prunable.reduce((s, g) => s + (keep[g] ? scores.groups[g] : 0), 0);
  for (const cand of perK1.slice(0, options.paramsPolishCandidates ?? DEFAULT_POLISH)) {
    let keep = model.decode(cand.k[0], cand.tag);
    let k = cand.k;
    let total = cand.total;
    for (let iter = 0; iter < 50; iter++) {
      // Groups for these counts: a knapsack over what the neurons leave of the budget.
      const ks: Knapsack = {
        cost: Float64Array.from(
          prunable,
          (g) => ctx.a * k[0] * layout.groupSizes[g] + layout.groupParams[g],
        ),
        score: Float64Array.from(prunable, (g) => scores.groups[g]),
        cap: ctx.budget - countsCost(ctx, k, 0),
        needOne,
      };
      const mask = knapsackLocal(
        ks,
        Uint8Array.from(prunable, (g) => keep[g]),
      );
      if (!mask) break;
      const keep2 = keep.slice();
      prunable.forEach((g, j) => (keep2[g] = mask[j]));
      // Counts for these groups, exactly.
      const single = singleChoiceModel(layout, keep2, scores.groups, ctx.a, 'params');
      const found = searchCounts(ctx, single);
      if (!found) break;
      const improved = found.total > total + 1e-12 * (1 + Math.abs(total));
      if (found.total >= total) {
        keep = keep2;
        k = found.k;
        total = found.total;
      }
      if (!improved) break;
    }
    // Totals leave out the fixed groups' scores, which every candidate keeps.
    let full = groupScore(keep);
    for (let j = 0; j < k.length; j++) full += ctx.prefix[j][k[j]];
    if (!best || full > best.total) best = { total: full, keep, k };
  }
  return best ? buildStructure(best.keep, best.k, orders, ctx.n) : null;
}

/** Sum of the kept units' scores (what a projection maximises). */
export function keptScore(structure: KeptStructure, scores: UnitScores): number {
  let total = 0;
  structure.keepGroups.forEach((k, g) => (total += k ? scores.groups[g] : 0));
  structure.keepNeurons.forEach((mask, l) =>
    mask.forEach((k, j) => (total += k ? scores.neurons[l][j] : 0)),
  );
  return total;
}

/** Bisection steps of the 'both' projection (the budget ratio to about 1e-9 of the range). */
const BOTH_BISECTION_STEPS = 30;

/**
 * projectStructure for a budget kind. 'both' (FLOPs and parameters each within the budget) is a
 * knapsack with two constraints; this is an APPROXIMATION, always feasible: for each resource k,
 * the exact (or, for parameters, the usual) projection on k alone at the largest budget b <= the
 * budget (found by bisection) whose structure also keeps the other resource within the budget;
 * of the two, the structure with the larger kept score. When the budget leaves both resources
 * slack at once, that is the exact projection of the tighter one.
 */
export function projectBudget(
  layout: PrunableLayout,
  scores: UnitScores,
  kind: BudgetKind,
  ratio: number,
  mode: PruneMode,
  options: ProjectionOptions = {},
): KeptStructure {
  if (kind !== 'both') return projectStructure(layout, scores, kind, ratio, mode, options);
  const minimum = minimumBudgetRatio(layout, kind, mode);
  if (!(ratio >= minimum)) {
    throw new Error(
      `budget ${ratio} is below the smallest model that can exist (FLOPs and parameter ratio ${minimum.toPrecision(4)})`,
    );
  }
  let best: { structure: KeptStructure; score: number } | null = null;
  for (const k of ['flops', 'params'] as const) {
    const fits = (st: KeptStructure) => budgetRatio(layout, kind, st) <= ratio;
    const project = (b: number) => projectStructure(layout, scores, k, b, mode, options);
    let candidate: KeptStructure | null = project(ratio);
    if (!fits(candidate)) {
      let lo = minimumRatio(layout, k, mode);
      let hi = ratio;
      const atLo = project(lo);
      candidate = fits(atLo) ? atLo : null;
      for (let i = 0; candidate && i < BOTH_BISECTION_STEPS && hi > lo; i++) {
        const mid = (lo + hi) / 2;
        const st = project(mid);
        if (fits(st)) {
          candidate = st;
          lo = mid;
        } else hi = mid;
      }
    }
    if (!candidate) continue;
    const score = keptScore(candidate, scores);
    if (!best || score > best.score) best = { structure: candidate, score };
  }
  return best ? best.structure : minimumBudgetStructure(layout, kind, mode);
}
