/**
 * The built-in synthetic CTR slice. Seeded and deterministic; the generator keeps the true click
 * probability of every row so the lab can report the Bayes AUC (the best any model can reach).
 *
 * Shape of the data, chosen so that feature selection and pruning have something real to find:
 * - field cardinalities spread log-uniformly from ~20 to `maxCardinality` (long-tailed);
 * - values within a field are Zipf-distributed (P(rank k) ~ 1/k): a few hot values, a long tail;
 * - roles: informative fields carry hidden per-value effects, noise fields carry none, and
 *   redundant fields are relabelled copies of an informative field (same information twice);
 * - clicks ~ Bernoulli(sigmoid(bias + sum of effects + a few pairwise interactions)).
 */
import type { SyntheticDataConfig } from '../protocol';
import { Rng } from '../rng';
import { rocAuc, sigmoid } from '../metrics/classification';
import { type CtrDataset, fieldOffsetsOf } from './dataset';

export interface SyntheticDataset extends CtrDataset {
  /** True click probability of every row. */
  trueProbs: Float32Array;
  informativeFields: number[];
  noiseFields: number[];
  redundantFields: { field: number; copyOf: number }[];
  interactions: [number, number][];
  bayesTestAuc: number;
}

const MIN_CARDINALITY = 20;
/** Std of the per-value effects of an informative field. */
const EFFECT_STD = 0.6;
const INTERACTION_STD = 0.8;
/** Bias so that the click rate is near the 20-25% of real CTR logs. */
const BIAS = -1.6;

export function fieldCardinalities(
  numFields: number,
  maxCardinality: number,
  rng: Rng,
): Int32Array {
  const dims = new Int32Array(numFields);
  const lo = Math.log(MIN_CARDINALITY);
  const hi = Math.log(Math.max(MIN_CARDINALITY, maxCardinality));
  for (let f = 0; f < numFields; f++) {
    const t = numFields === 1 ? 1 : f / (numFields - 1);
    dims[f] = Math.round(Math.exp(lo + t * (hi - lo)));
  }
  return rng.shuffle(dims);
}

/** Zipf(1)-like draw of a value rank in [0, card): log-uniform over 1..card+1, minus one. */
function zipfValue(card: number, rng: Rng): number {
  const v = Math.floor(Math.exp(rng.next() * Math.log(card + 1))) - 1;
  return Math.min(card - 1, Math.max(0, v));
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export function generateSyntheticCtr(config: SyntheticDataConfig): SyntheticDataset {
  const { numRows, numFields, maxCardinality, seed } = config;
  const rng = new Rng(seed);
  const structureRng = rng.fork(1);
  const rowRng = rng.fork(2);
  const splitRng = rng.fork(3);

  // Field roles: about a quarter noise, a sixth redundant copies, the rest informative.
  const roleOrder = structureRng.shuffle(Int32Array.from({ length: numFields }, (_, i) => i));
  const numNoise = Math.max(1, Math.floor(numFields / 4));
  const numRedundant = Math.max(1, Math.floor(numFields / 6));
  const noiseFields = Array.from(roleOrder.subarray(0, numNoise)).sort((a, b) => a - b);
  const redundantList = Array.from(roleOrder.subarray(numNoise, numNoise + numRedundant));
  const informativeFields = Array.from(roleOrder.subarray(numNoise + numRedundant)).sort(
    (a, b) => a - b,
  );

  // The cardinality ladder goes to the non-redundant fields only, so that a redundant copy never
  // takes the place of the largest field; copies then take their source's cardinality.
  const fieldDims = new Int32Array(numFields);
  const ownFields = [...informativeFields, ...noiseFields].sort((a, b) => a - b);
  const ladder = fieldCardinalities(ownFields.length, maxCardinality, structureRng);
  ownFields.forEach((f, i) => (fieldDims[f] = ladder[i]));
  const redundantFields = redundantList
    .map((field) => {
      const copyOf = informativeFields[structureRng.int(informativeFields.length)];
      fieldDims[field] = fieldDims[copyOf];
      return { field, copyOf };
    })
    .sort((a, b) => a.field - b.field);

  const effects: (Float32Array | null)[] = Array.from({ length: numFields }, () => null);
  for (const f of informativeFields) {
    const w = new Float32Array(fieldDims[f]);
    for (let v = 0; v < w.length; v++) w[v] = EFFECT_STD * structureRng.normal();
    effects[f] = w;
  }
  // A few rank-1 pairwise interactions between informative fields (FM can learn these).
  const interactions: [number, number][] = [];
  const interactionFactors = new Map<number, Float32Array>();
  const numInteractions = Math.min(3, Math.floor(informativeFields.length / 2));
  const pool = structureRng.shuffle(Int32Array.from(informativeFields));
  for (let k = 0; k < numInteractions; k++) {
    const a = pool[2 * k];
    const b = pool[2 * k + 1];
    interactions.push([a, b]);
    for (const f of [a, b]) {
      const u = new Float32Array(fieldDims[f]);
      for (let v = 0; v < u.length; v++) u[v] = Math.sqrt(INTERACTION_STD) * structureRng.normal();
      interactionFactors.set(f, u);
    }
  }
  // Redundant fields relabel their source with an affine bijection v -> (a*v + b) mod card.
  const relabel = redundantFields.map(({ field, copyOf }) => {
    const card = fieldDims[field];
    let a = 1 + structureRng.int(Math.max(1, card - 1));
    while (gcd(a, card) !== 1) a = (a % card) + 1;
    return { field, copyOf, a, b: structureRng.int(card), card };
  });

  const ids = new Int32Array(numRows * numFields);
  const labels = new Float32Array(numRows);
  const trueProbs = new Float32Array(numRows);
  const isRedundant = new Uint8Array(numFields);
  for (const { field } of redundantFields) isRedundant[field] = 1;
  for (let r = 0; r < numRows; r++) {
    const base = r * numFields;
    for (let f = 0; f < numFields; f++) {
      if (!isRedundant[f]) ids[base + f] = zipfValue(fieldDims[f], rowRng);
    }
    for (const { field, copyOf, a, b, card } of relabel) {
      // a, v < 5e6, so a*v + b stays far below 2^53: exact in doubles.
      ids[base + field] = (a * ids[base + copyOf] + b) % card;
    }
    let logit = BIAS;
    for (const f of informativeFields) logit += (effects[f] as Float32Array)[ids[base + f]];
    for (const [fa, fb] of interactions) {
      logit +=
        (interactionFactors.get(fa) as Float32Array)[ids[base + fa]] *
        (interactionFactors.get(fb) as Float32Array)[ids[base + fb]];
    }
    const p = sigmoid(logit);
    trueProbs[r] = p;
    labels[r] = rowRng.next() < p ? 1 : 0;
  }

  const order = splitRng.shuffle(Int32Array.from({ length: numRows }, (_, i) => i));
  const nTrain = Math.floor(numRows * 0.8);
  const nValid = Math.floor(numRows * 0.1);
  const split = {
    train: order.slice(0, nTrain),
    validation: order.slice(nTrain, nTrain + nValid),
    test: order.slice(nTrain + nValid),
  };
  const testProbs = Float32Array.from(split.test, (r) => trueProbs[r]);
  const testLabels = Float32Array.from(split.test, (r) => labels[r]);

  return {
    name: `synthetic (seed ${seed}, ${numRows} rows, ${numFields} fields, cardinality up to ${maxCardinality})`,
    numRows,
    numFields,
    fieldNames: Array.from({ length: numFields }, (_, f) => `F${f + 1}`),
    fieldDims,
    fieldOffsets: fieldOffsetsOf(fieldDims),
    totalVocabulary: fieldDims.reduce((a, b) => a + b, 0),
    ids,
    labels,
    split,
    trueProbs,
    informativeFields,
    noiseFields,
    redundantFields,
    interactions,
    bayesTestAuc: rocAuc(testProbs, testLabels),
  };
}
