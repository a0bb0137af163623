import { describe, expect, it } from 'vitest';
import { generateSyntheticCtr, type SyntheticDataset } from '../../../workers/data/synthetic';
import { fieldOffsetsOf, validateIds } from '../../../workers/data/dataset';
import { rocAuc } from '../../../workers/metrics/classification';
import { DEFAULT_DATA_CONFIG, type SyntheticDataConfig } from '../../../workers/protocol';

const CONFIG: SyntheticDataConfig = {
  seed: 11,
  numRows: 20000,
  numFields: 12,
  maxCardinality: 20000,
};
const ds = generateSyntheticCtr(CONFIG);

function column(d: SyntheticDataset, f: number): Int32Array {
  const out = new Int32Array(d.numRows);
  for (let r = 0; r < d.numRows; r++) out[r] = d.ids[r * d.numFields + f];
  return out;
}

/**
 * A one-field model: per-value label mean on `fitRows` (smoothed toward the global mean), scored
 * on `evalRows`. Its held-out AUC measures how much information the field carries about clicks.
 */
function targetEncoderAuc(
  d: SyntheticDataset,
  f: number,
  fitRows: Int32Array,
  evalRows: Int32Array,
): number {
  const card = d.fieldDims[f];
  const clicks = new Float64Array(card);
  const counts = new Float64Array(card);
  let globalClicks = 0;
  for (const r of fitRows) {
    const v = d.ids[r * d.numFields + f];
    clicks[v] += d.labels[r];
    counts[v] += 1;
    globalClicks += d.labels[r];
  }
  const prior = globalClicks / fitRows.length;
  const alpha = 20;
  const scores = Float64Array.from(evalRows, (r) => {
    const v = d.ids[r * d.numFields + f];
    return (clicks[v] + alpha * prior) / (counts[v] + alpha);
  });
  const labels = Float64Array.from(evalRows, (r) => d.labels[r]);
  return rocAuc(scores, labels);
}

function concat(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe('synthetic CTR generator', () => {
  it('is deterministic for a seed and differs for another seed', () => {
    const again = generateSyntheticCtr(CONFIG);
    expect(again.ids).toEqual(ds.ids);
    expect(again.labels).toEqual(ds.labels);
    expect(again.trueProbs).toEqual(ds.trueProbs);
    expect(again.fieldDims).toEqual(ds.fieldDims);
    expect(again.split.train).toEqual(ds.split.train);
    expect(again.split.test).toEqual(ds.split.test);
    expect(again.noiseFields).toEqual(ds.noiseFields);
    expect(again.redundantFields).toEqual(ds.redundantFields);
    expect(again.bayesTestAuc).toBe(ds.bayesTestAuc);

    const other = generateSyntheticCtr({ ...CONFIG, seed: CONFIG.seed + 1 });
    let sameIds = 0;
    for (let i = 0; i < ds.ids.length; i++) if (other.ids[i] === ds.ids[i]) sameIds++;
    // Zipf values collide often (the hottest value has ~7% mass), but far from always.
    expect(sameIds / ds.ids.length).toBeLessThan(0.5);
    let sameLabels = 0;
    for (let r = 0; r < ds.numRows; r++) if (other.labels[r] === ds.labels[r]) sameLabels++;
    expect(sameLabels).toBeLessThan(ds.numRows * 0.9);
    expect(other.split.train).not.toEqual(ds.split.train);
  });

  it('keeps every id inside its field range and the offsets consistent', () => {
    expect(() => validateIds(ds)).not.toThrow();
    let minId = Infinity;
    let outside = 0;
    for (let r = 0; r < ds.numRows; r++) {
      for (let f = 0; f < ds.numFields; f++) {
        const v = ds.ids[r * ds.numFields + f];
        if (!(v >= 0 && v < ds.fieldDims[f])) outside++;
        minId = Math.min(minId, v);
      }
    }
    expect(outside).toBe(0);
    expect(minId).toBe(0);
    expect(ds.fieldOffsets).toEqual(fieldOffsetsOf(ds.fieldDims));
    expect(ds.totalVocabulary).toBe(ds.fieldDims.reduce((a, b) => a + b, 0));
    expect(ds.ids.length).toBe(ds.numRows * ds.numFields);
    expect(ds.trueProbs.every((p) => p > 0 && p < 1)).toBe(true);
  });

  it('spreads cardinalities from tens up to maxCardinality (documented: "largest cardinality")', () => {
    // Several seeds, including the lab's default data config.
    const configs: SyntheticDataConfig[] = [
      CONFIG,
      DEFAULT_DATA_CONFIG,
      ...[1, 2, 3, 4, 5, 6, 8].map((seed) => ({ ...DEFAULT_DATA_CONFIG, seed, numRows: 500 })),
    ];
    const failures: string[] = [];
    for (const cfg of configs) {
      const d = generateSyntheticCtr({ ...cfg, numRows: Math.min(cfg.numRows, 500) });
      const dims = Array.from(d.fieldDims);
      const lo = Math.min(...dims);
      const hi = Math.max(...dims);
      if (lo < 10 || lo > 99) failures.push(`seed ${cfg.seed}: smallest cardinality ${lo}`);
      if (hi < 0.9 * cfg.maxCardinality || hi > cfg.maxCardinality) {
        failures.push(
          `seed ${cfg.seed}: largest cardinality ${hi}, maxCardinality ${cfg.maxCardinality} (dims ${dims.join(',')})`,
        );
      }
    }
    expect(failures).toEqual([]);
  });

  it('makes big fields long-tailed: a few hot values, most values rare', () => {
    let checked = 0;
    for (let f = 0; f < ds.numFields; f++) {
      const card = ds.fieldDims[f];
      if (card < 1000) continue;
      checked++;
      const counts = new Int32Array(card);
      for (const v of column(ds, f)) counts[v]++;
      const sorted = Array.from(counts).sort((a, b) => b - a);
      const top = sorted[0];
      const median = sorted[Math.floor(card / 2)];
      // Zipf(1): the hottest value has mass ln2/ln(card+1) (~7% at 20k), uniform would be 1/card.
      expect(top / ds.numRows).toBeGreaterThan(0.04);
      expect(top).toBeGreaterThan(50 * Math.max(1, median));
      // The 10 hottest values together hold a large share of the rows.
      const top10 = sorted.slice(0, 10).reduce((a, b) => a + b, 0);
      expect(top10 / ds.numRows).toBeGreaterThan(0.15);
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('assigns roles that partition the fields', () => {
    const all = [
      ...ds.informativeFields,
      ...ds.noiseFields,
      ...ds.redundantFields.map((r) => r.field),
    ].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: ds.numFields }, (_, i) => i));
    expect(ds.noiseFields.length).toBeGreaterThanOrEqual(1);
    expect(ds.redundantFields.length).toBeGreaterThanOrEqual(1);
    for (const { copyOf } of ds.redundantFields) expect(ds.informativeFields).toContain(copyOf);
    for (const [a, b] of ds.interactions) {
      expect(ds.informativeFields).toContain(a);
      expect(ds.informativeFields).toContain(b);
    }
  });

  it('makes redundant fields bijective relabellings of their source', () => {
    for (const { field, copyOf } of ds.redundantFields) {
      expect(ds.fieldDims[field]).toBe(ds.fieldDims[copyOf]);
      const card = ds.fieldDims[field];
      const forward = new Int32Array(card).fill(-1);
      const backward = new Int32Array(card).fill(-1);
      let identical = 0;
      let conflicts = 0;
      for (let r = 0; r < ds.numRows; r++) {
        const s = ds.ids[r * ds.numFields + copyOf];
        const t = ds.ids[r * ds.numFields + field];
        if (forward[s] === -1) forward[s] = t;
        if (backward[t] === -1) backward[t] = s;
        if (forward[s] !== t || backward[t] !== s) conflicts++;
        if (s === t) identical++;
      }
      expect(conflicts).toBe(0);
      // A relabelling, not the identity.
      expect(identical).toBeLessThan(ds.numRows);
    }
  });

  it('noise fields carry no information; informative fields do', () => {
    const fit = ds.split.train;
    const evalRows = concat(ds.split.validation, ds.split.test);
    const aucs = Array.from({ length: ds.numFields }, (_, f) =>
      targetEncoderAuc(ds, f, fit, evalRows),
    );
    // Held-out AUC of a one-field model: std ~0.011 at 4,000 rows, so 0.045 is ~4 sigma.
    for (const f of ds.noiseFields) expect(Math.abs(aucs[f] - 0.5)).toBeLessThan(0.045);
    for (const f of ds.informativeFields) expect(aucs[f]).toBeGreaterThan(0.53);
    // Same information twice: a redundant field predicts exactly as well as its source.
    for (const { field, copyOf } of ds.redundantFields)
      expect(aucs[field]).toBeCloseTo(aucs[copyOf], 10);
  });

  it('noise fields: the click rate of every frequent value is the global click rate', () => {
    let globalClicks = 0;
    for (const y of ds.labels) globalClicks += y;
    const p = globalClicks / ds.numRows;
    let tested = 0;
    for (const f of ds.noiseFields) {
      const card = ds.fieldDims[f];
      const clicks = new Float64Array(card);
      const counts = new Float64Array(card);
      const col = column(ds, f);
      for (let r = 0; r < ds.numRows; r++) {
        clicks[col[r]] += ds.labels[r];
        counts[col[r]]++;
      }
      for (let v = 0; v < card; v++) {
        if (counts[v] < 300) continue;
        tested++;
        const se = Math.sqrt((p * (1 - p)) / counts[v]);
        expect(Math.abs(clicks[v] / counts[v] - p)).toBeLessThan(4.5 * se);
      }
    }
    expect(tested).toBeGreaterThan(3);
  });

  it('splits 80/10/10 into disjoint sets that cover every row', () => {
    const { train, validation, test } = ds.split;
    expect(train.length).toBe(Math.floor(ds.numRows * 0.8));
    expect(validation.length).toBe(Math.floor(ds.numRows * 0.1));
    expect(train.length + validation.length + test.length).toBe(ds.numRows);
    const seen = new Uint8Array(ds.numRows);
    let bad = 0;
    for (const part of [train, validation, test]) {
      for (const r of part) {
        if (!(r >= 0 && r < ds.numRows) || seen[r] !== 0) bad++;
        seen[r] = 1;
      }
    }
    expect(bad).toBe(0);
    expect(seen.every((s) => s === 1)).toBe(true);
    // Shuffled, not contiguous blocks.
    expect(Math.max(...Array.from(test))).toBeGreaterThan(ds.numRows * 0.5);
    expect(Math.min(...Array.from(test))).toBeLessThan(ds.numRows * 0.5);
  });

  it('labels are Bernoulli(trueProbs): calibrated, with a Bayes AUC > 0.7 on the test split', () => {
    let sumP = 0;
    let sumVar = 0;
    let sumY = 0;
    for (let r = 0; r < ds.numRows; r++) {
      sumP += ds.trueProbs[r];
      sumVar += ds.trueProbs[r] * (1 - ds.trueProbs[r]);
      sumY += ds.labels[r];
    }
    expect(Math.abs(sumY - sumP)).toBeLessThan(4 * Math.sqrt(sumVar));
    const rate = sumY / ds.numRows;
    expect(rate).toBeGreaterThan(0.1);
    expect(rate).toBeLessThan(0.45);

    const test = ds.split.test;
    const auc = rocAuc(
      Float32Array.from(test, (r) => ds.trueProbs[r]),
      Float32Array.from(test, (r) => ds.labels[r]),
    );
    expect(ds.bayesTestAuc).toBeGreaterThan(0.7);
    expect(ds.bayesTestAuc).toBeCloseTo(auc, 12);
    // The truth beats any single field.
    const fit = ds.split.train;
    for (const f of ds.informativeFields) {
      expect(targetEncoderAuc(ds, f, fit, test)).toBeLessThan(ds.bayesTestAuc);
    }
  });
});
