/**
 * UMEC's resource functions for a prunable MLP of Linear layers (pure, tfjs-free).
 *
 * "Unit layer" 0 is the first Linear's input GROUPS (a block of consecutive input columns: one
 * input field's embedding, or DLRM's dense block); unit layer l >= 1 is the l-th hidden layer's
 * neurons (layerSizes[l - 1] of them, the inputs of Linear l). The last Linear's outputs (the
 * logit) are never pruned.
 *
 * FLOPs (rc_utils.flops2, the convention that gives 705,793 for dense 432-512-256-1): per Linear
 * 2 * in * out + out, a multiply and an add per weight plus one add per bias. Params: per Linear
 * in * out + out, plus (resource 'params' only) the embedding parameters of the kept groups.
 */

/** A resource UMEC counts. */
export type ResourceKind = 'flops' | 'params';

/**
 * What a UMEC budget constrains: one resource, or 'both' (FLOPs AND parameters each within the
 * budget: the budget ratio of a structure is then the larger of its two ratios).
 */
export type BudgetKind = ResourceKind | 'both';

/** The resources a budget kind constrains. */
export function resourcesOf(kind: BudgetKind): ResourceKind[] {
  return kind === 'both' ? ['flops', 'params'] : [kind];
}

/** How a budget kind reads in messages. */
export function budgetKindLabel(kind: BudgetKind): string {
  return kind === 'flops' ? 'FLOPs' : kind === 'params' ? 'parameter' : 'FLOPs and parameter';
}

/** Which units may be pruned: 'joint' = input groups and hidden neurons; 'inputs' = groups only. */
export type PruneMode = 'joint' | 'inputs';

/** The prunable MLP: input groups of the first Linear and the output width of every Linear. */
export interface PrunableLayout {
  /** Input columns of each first-layer group, in input order (they sum to the input width). */
  groupSizes: number[];
  /** Embedding parameters a group frees when dropped (0: none, e.g. DLRM's dense block). */
  groupParams: number[];
  /** Groups that may never be dropped. */
  fixedGroups: boolean[];
  /** Output widths of every Linear; the last one (the logit) is never pruned. */
  layerSizes: number[];
}

/** A pruned structure: 1 = kept, 0 = removed. */
export interface KeptStructure {
  /** One entry per input group. */
  keepGroups: Uint8Array;
  /** keepNeurons[l - 1] masks hidden layer l's neurons (Linear l-1's outputs); length layerSizes.length - 1. */
  keepNeurons: Uint8Array[];
}

/** Throws unless the layout is self-consistent (equal lengths, positive integer widths). */
export function validateLayout(layout: PrunableLayout): void {
  const { groupSizes, groupParams, fixedGroups, layerSizes } = layout;
  if (groupSizes.length === 0) throw new Error('UMEC layout: no input groups');
  if (groupParams.length !== groupSizes.length || fixedGroups.length !== groupSizes.length) {
    throw new Error(
      `UMEC layout: groupSizes (${groupSizes.length}), groupParams (${groupParams.length}) and ` +
        `fixedGroups (${fixedGroups.length}) must have the same length`,
    );
  }
  if (layerSizes.length === 0) throw new Error('UMEC layout: no Linear layers');
  for (const size of groupSizes) {
    if (!Number.isInteger(size) || size <= 0) {
      throw new Error(`UMEC layout: group sizes must be positive integers, got ${size}`);
    }
  }
  for (const p of groupParams) {
    if (!Number.isFinite(p) || p < 0) {
      throw new Error(`UMEC layout: group params must be finite and >= 0, got ${p}`);
    }
  }
  for (const n of layerSizes) {
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`UMEC layout: layer sizes must be positive integers, got ${n}`);
    }
  }
}

/** Total input width of the first Linear (sum of the group sizes). */
export function inputWidthOf(layout: PrunableLayout): number {
  let w = 0;
  for (const size of layout.groupSizes) w += size;
  return w;
}

function checkNeurons(layout: PrunableLayout, neurons: ArrayLike<number>): void {
  if (neurons.length !== layout.layerSizes.length - 1) {
    throw new Error(
      `UMEC: expected ${layout.layerSizes.length - 1} hidden-layer neuron counts, got ${neurons.length}`,
    );
  }
}

/** Sum over Linears of (perWeight * in * out + out) for the given kept widths. */
function mlpCost(
  layout: PrunableLayout,
  inputWidth: number,
  neurons: ArrayLike<number>,
  perWeight: number,
): number {
  checkNeurons(layout, neurons);
  const sizes = layout.layerSizes;
  const last = sizes.length - 1;
  let total = 0;
  let inKept = inputWidth;
  for (let l = 0; l <= last; l++) {
    const outKept = l < last ? neurons[l] : sizes[last];
    total += perWeight * inKept * outKept + outKept;
    inKept = outKept;
  }
  return total;
}

/**
 * FLOPs of the MLP with `inputWidth` kept input columns and neurons[l - 1] kept neurons in hidden
 * layer l: sum over Linears of 2 * in * out + out (the last Linear's outputs are all kept).
 */
export function mlpFlops(
  layout: PrunableLayout,
  inputWidth: number,
  neurons: ArrayLike<number>,
): number {
  return mlpCost(layout, inputWidth, neurons, 2);
}

/** Parameters of the MLP (weights + biases) with the given kept widths, embeddings excluded. */
export function mlpParams(
  layout: PrunableLayout,
  inputWidth: number,
  neurons: ArrayLike<number>,
): number {
  return mlpCost(layout, inputWidth, neurons, 1);
}

function countKept(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}

/**
 * Absolute resource of a kept structure: the MLP's FLOPs, or its parameters plus the embedding
 * parameters (groupParams) of the kept groups.
 */
export function structureResource(
  layout: PrunableLayout,
  kind: ResourceKind,
  s: KeptStructure,
): number {
  const { groupSizes, groupParams, layerSizes } = layout;
  if (s.keepGroups.length !== groupSizes.length) {
    throw new Error(
      `UMEC: keepGroups has ${s.keepGroups.length} entries, the layout ${groupSizes.length} groups`,
    );
  }
  if (s.keepNeurons.length !== layerSizes.length - 1) {
    throw new Error(
      `UMEC: keepNeurons has ${s.keepNeurons.length} layers, expected ${layerSizes.length - 1}`,
    );
  }
  let width = 0;
  let embedding = 0;
  for (let g = 0; g < groupSizes.length; g++) {
    if (s.keepGroups[g]) {
      width += groupSizes[g];
      embedding += groupParams[g];
    }
  }
  const neurons = s.keepNeurons.map((mask, l) => {
    if (mask.length !== layerSizes[l]) {
      throw new Error(
        `UMEC: keepNeurons[${l}] has ${mask.length} entries, hidden layer ${l + 1} ${layerSizes[l]}`,
      );
    }
    return countKept(mask);
  });
  return kind === 'flops'
    ? mlpFlops(layout, width, neurons)
    : mlpParams(layout, width, neurons) + embedding;
}

/** Resource of the dense (unpruned) model. */
export function denseResource(layout: PrunableLayout, kind: ResourceKind): number {
  const neurons = layout.layerSizes.slice(0, -1);
  const width = inputWidthOf(layout);
  if (kind === 'flops') return mlpFlops(layout, width, neurons);
  let embedding = 0;
  for (const p of layout.groupParams) embedding += p;
  return mlpParams(layout, width, neurons) + embedding;
}

/** structureResource / denseResource. */
export function structureRatio(
  layout: PrunableLayout,
  kind: ResourceKind,
  s: KeptStructure,
): number {
  return structureResource(layout, kind, s) / denseResource(layout, kind);
}

/** The ratio a budget of `kind` compares: one resource's ratio, or the larger of the two. */
export function budgetRatio(layout: PrunableLayout, kind: BudgetKind, s: KeptStructure): number {
  return Math.max(...resourcesOf(kind).map((k) => structureRatio(layout, k, s)));
}

/**
 * The smallest structure that can exist, as KeptStructure, and a description of it.
 * joint: every fixed group (or, if none is fixed, the one cheapest group) and 1 neuron per hidden
 * layer. inputs: the same groups with every hidden neuron kept.
 */
export function minimumStructure(
  layout: PrunableLayout,
  kind: ResourceKind,
  mode: PruneMode,
): { structure: KeptStructure; description: string } {
  validateLayout(layout);
  const { groupSizes, groupParams, fixedGroups, layerSizes } = layout;
  const keepGroups = new Uint8Array(groupSizes.length);
  let nFixed = 0;
  for (let g = 0; g < groupSizes.length; g++) {
    if (fixedGroups[g]) {
      keepGroups[g] = 1;
      nFixed++;
    }
  }
  // Neurons of hidden layer 1 multiply the input width (the last layer's outputs if none).
  const firstOut = mode === 'joint' && layerSizes.length > 1 ? 1 : layerSizes[0];
  let groupText: string;
  if (nFixed > 0) {
    groupText = nFixed === 1 ? 'the 1 fixed group' : `the ${nFixed} fixed groups`;
  } else {
    // Every other term is the same whichever group is kept: compare the group's own cost.
    const perWeight = kind === 'flops' ? 2 : 1;
    let best = 0;
    let bestCost = Infinity;
    for (let g = 0; g < groupSizes.length; g++) {
      const cost = perWeight * groupSizes[g] * firstOut + (kind === 'params' ? groupParams[g] : 0);
      if (cost < bestCost) {
        bestCost = cost;
        best = g;
      }
    }
    keepGroups[best] = 1;
    groupText = `the cheapest group (#${best}, ${groupSizes[best]} columns)`;
  }
  const keepNeurons = layerSizes.slice(0, -1).map((n) => {
    const mask = new Uint8Array(n);
    if (mode === 'joint') mask[0] = 1;
    else mask.fill(1);
    return mask;
  });
  const neuronText =
    layerSizes.length === 1
      ? ''
      : mode === 'joint'
        ? ' and 1 neuron per hidden layer'
        : ' with every hidden neuron kept';
  return { structure: { keepGroups, keepNeurons }, description: groupText + neuronText };
}

/**
 * Resource ratio of the smallest model that can exist (see minimumStructure): joint = every
 * fixed group (or, if none is fixed, the one cheapest group) + 1 neuron per hidden layer;
 * inputs = only groups prunable (hidden layers full): the fixed groups, or the cheapest group.
 */
export function minimumRatio(layout: PrunableLayout, kind: ResourceKind, mode: PruneMode): number {
  return structureRatio(layout, kind, minimumStructure(layout, kind, mode).structure);
}

/**
 * The structure with the smallest budget ratio: for one resource, minimumStructure; for 'both',
 * the fixed groups when there are some, else the one kept group whose structure has the smallest
 * larger ratio; with 1 neuron per hidden layer (joint) or all of them (inputs).
 */
export function minimumBudgetStructure(
  layout: PrunableLayout,
  kind: BudgetKind,
  mode: PruneMode,
): KeptStructure {
  if (kind !== 'both') return minimumStructure(layout, kind, mode).structure;
  const base = minimumStructure(layout, 'flops', mode).structure;
  if (layout.fixedGroups.some(Boolean)) return base;
  let best = base;
  let bestRatio = Infinity;
  for (let g = 0; g < layout.groupSizes.length; g++) {
    const keepGroups = new Uint8Array(layout.groupSizes.length);
    keepGroups[g] = 1;
    const candidate = { ...base, keepGroups };
    const ratio = budgetRatio(layout, kind, candidate);
    if (ratio < bestRatio) {
      best = candidate;
      bestRatio = ratio;
    }
  }
  return best;
}

/** The smallest budget ratio any structure can have (see minimumBudgetStructure). */
export function minimumBudgetRatio(
  layout: PrunableLayout,
  kind: BudgetKind,
  mode: PruneMode,
): number {
  return budgetRatio(layout, kind, minimumBudgetStructure(layout, kind, mode));
}

/**
 * The official code's resource (rc_utils.flops2, normalised by the dense value as
 * rc_optimizer.build_minimax_model does) as a function of real-valued prune counts s, with its
 * straight-through gradient (floor's derivative taken as 1, as SteFloor does).
 *
 * joint: s[0] = groups pruned, s[l] = neurons pruned at unit layer l (length layerSizes.length);
 *   R(s) = sum_l 2 * floor(in_l - s_l * g_l) * floor(out_l - s_{l+1}) + floor(out_l - s_{l+1})
 *   with g_0 = the group size, g_l = 1 for l >= 1, and the last Linear's out not pruned.
 * inputs: s has length 1; only the first Linear's input is pruned, every later layer is dense
 *   (flops2's single-layer branch: 2 * floor(in_0 - s_0 * g) * out_0 + out_0 + the rest).
 *
 * Every group must have the same size g (the official code's group_size). The caller passes
 * ceil(s) as the official code does; this function takes s as given. FLOPs only (the official
 * code has no parameter resource).
 */
export function officialResourceRatio(
  layout: PrunableLayout,
  s: ArrayLike<number>,
  mode: PruneMode,
): { ratio: number; gradient: Float64Array } {
  validateLayout(layout);
  const { groupSizes, layerSizes } = layout;
  const g = groupSizes[0];
  for (const size of groupSizes) {
    if (size !== g) {
      throw new Error(
        `officialResourceRatio: the official resource needs equal group sizes, got ${groupSizes.join(', ')}`,
      );
    }
  }
  const dense = denseResource(layout, 'flops');
  const inWidth = inputWidthOf(layout);
  const L = layerSizes.length;
  if (mode === 'inputs') {
    if (s.length !== 1) {
      throw new Error(`officialResourceRatio: mode 'inputs' takes 1 prune count, got ${s.length}`);
    }
    const out0 = layerSizes[0];
    let value = 2 * Math.floor(inWidth - s[0] * g) * out0 + out0;
    for (let l = 1; l < L; l++) value += 2 * layerSizes[l - 1] * layerSizes[l] + layerSizes[l];
    return { ratio: value / dense, gradient: Float64Array.of((-2 * g * out0) / dense) };
  }
  if (s.length !== L) {
    throw new Error(
      `officialResourceRatio: mode 'joint' takes ${L} prune counts (one per unit layer), got ${s.length}`,
    );
  }
  const gradient = new Float64Array(L);
  let value = 0;
  let inDim = inWidth;
  for (let l = 0; l < L; l++) {
    const unit = l === 0 ? g : 1;
    const inKept = Math.floor(inDim - s[l] * unit);
    const outDim = layerSizes[l];
    const outKept = l < L - 1 ? Math.floor(outDim - s[l + 1]) : outDim;
    value += 2 * inKept * outKept + outKept;
    // d/ds_l of 2 * inKept * outKept: -unit * 2 * outKept.
    gradient[l] += -unit * 2 * outKept;
    // d/ds_{l+1} of 2 * inKept * outKept + outKept: -(2 * inKept + 1).
    if (l < L - 1) gradient[l + 1] += -(2 * inKept + 1);
    inDim = outDim;
  }
  for (let l = 0; l < L; l++) gradient[l] /= dense;
  return { ratio: value / dense, gradient };
}
