/**
 * The models of the lab in plain TypeScript (no tfjs, no DOM), in inference mode, reading a model
 * file's weights: the embedding as stored (dense, pruned, hashed, QR, mixed dimensions), then FM,
 * DeepFM, Wide&Deep, AutoInt or DLRM. The arithmetic is the lab's (float32 weights, double
 * accumulation), so probabilities agree with the lab's to about 1e-6.
 */
import type { DecodedModel } from '../export/readModel';
import type { Architecture, DenseRef, EmbeddingEncoding, MlpRef } from '../export/modelFormat';
import { hashBucket } from '../methods/hashing/hashFunction';

interface Dense {
  /** W transposed, [out, in] row-major, as float64: each output's weights lie together. */
  weightT: Float64Array;
  bias: Float32Array;
  inputs: number;
  outputs: number;
}

interface Mlp {
  hidden: {
    linear: Dense;
    norm: { scale: Float64Array; shift: Float64Array } | null;
    /** The layer's output, reused row after row. */
    out: Float64Array;
  }[];
  output: Dense | null;
}

/** The non-zero inputs of the layer applyDense computes: their positions and values. */
let nonZeroAt = new Int32Array(1024);
let nonZeroValue = new Float64Array(1024);

/**
 * y = x W + b. Each output is its bias plus x_i W_ij over the non-zero inputs in order (a zero
 * input, after a ReLU or in a pruned embedding, adds nothing and is skipped), summed in float64:
 * the same operations in the same order as accumulating x W input by input, so the same bits.
 */
function applyDense(d: Dense, x: Float64Array, out: Float64Array): void {
  const { weightT: w, bias: b, inputs, outputs } = d;
  if (nonZeroAt.length < inputs) {
    nonZeroAt = new Int32Array(inputs);
    nonZeroValue = new Float64Array(inputs);
  }
  const at = nonZeroAt;
  const value = nonZeroValue;
  let n = 0;
  for (let i = 0; i < inputs; i++) {
    const xi = x[i];
    if (xi !== 0) {
      at[n] = i;
      value[n++] = xi;
    }
  }
  if (n === inputs) {
    for (let j = 0; j < outputs; j++) {
      const row = j * inputs;
      let s = b[j];
      for (let i = 0; i < inputs; i++) s += x[i] * w[row + i];
      out[j] = s;
    }
    return;
  }
  for (let j = 0; j < outputs; j++) {
    const row = j * inputs;
    let s = b[j];
    for (let k = 0; k < n; k++) s += value[k] * w[row + at[k]];
    out[j] = s;
  }
}

export class ModelScorer {
  readonly architecture: Architecture;
  readonly numFields: number;
  readonly dim: number;
  private readonly offsets: Int32Array;
  private readonly fieldVector: (f: number, id: number, out: Float64Array, at: number) => void;
  private readonly forward: (emb: Float64Array, dense: Float32Array | null) => number;

  constructor(readonly model: DecodedModel) {
    const { file } = model;
    this.architecture = file.architecture;
    this.numFields = file.dataset.fields.length;
    this.dim = file.architecture.embeddingDim;
    this.offsets = Int32Array.from(file.dataset.fields, (f) => f.offset);
    this.fieldVector = this.embeddingReader(file.embedding);
    this.forward = this.modelForward(file.architecture);
  }

  private f32(ref: string): Float32Array {
    return this.model.tensors.get(ref) as Float32Array;
  }

  private dense(ref: DenseRef): Dense {
    const weight = this.f32(ref.weight);
    const bias = this.f32(ref.bias);
    const inputs = weight.length / bias.length;
    const outputs = bias.length;
    const weightT = new Float64Array(weight.length);
    for (let i = 0; i < inputs; i++) {
      for (let j = 0; j < outputs; j++) weightT[j * inputs + i] = weight[i * outputs + j];
    }
    return { weightT, bias, inputs, outputs };
  }

  private mlp(ref: MlpRef): Mlp {
    return {
      hidden: ref.hidden.map((h) => {
        const linear = this.dense(h.linear);
        const out = new Float64Array(linear.outputs);
        if (!h.norm) return { linear, norm: null, out };
        // Inference BatchNorm folded into y * scale + shift.
        const gamma = this.f32(h.norm.gamma);
        const beta = this.f32(h.norm.beta);
        const mean = this.f32(h.norm.runningMean);
        const variance = this.f32(h.norm.runningVar);
        const scale = new Float64Array(gamma.length);
        const shift = new Float64Array(gamma.length);
        for (let j = 0; j < gamma.length; j++) {
          scale[j] = gamma[j] / Math.sqrt(variance[j] + h.norm.eps);
          shift[j] = beta[j] - mean[j] * scale[j];
        }
        return { linear, norm: { scale, shift }, out };
      }),
      output: ref.output ? this.dense(ref.output) : null,
    };
  }

  private embeddingReader(
    e: EmbeddingEncoding,
  ): (f: number, id: number, out: Float64Array, at: number) => void {
    const d = e.dim;
    switch (e.kind) {
      case 'dense': {
        const t = this.f32(e.table);
        return (f, id, out, at) => {
          const base = (this.offsets[f] + id) * d;
          for (let k = 0; k < d; k++) out[at + k] = t[base + k];
        };
      }
      case 'pruned': {
        const masks = this.model.tensors.get(e.masks) as Uint8Array;
        const values = this.f32(e.values);
        const bytes = Math.ceil(d / 8);
        // Where each row's stored values start: a prefix sum of the rows' popcounts.
        const rows = masks.length / bytes;
        const start = new Int32Array(rows + 1);
        for (let r = 0; r < rows; r++) {
          let n = 0;
          for (let b = 0; b < bytes; b++) for (let x = masks[r * bytes + b]; x; x &= x - 1) n++;
          start[r + 1] = start[r] + n;
        }
        return (f, id, out, at) => {
          const row = this.offsets[f] + id;
          let v = start[row];
          for (let k = 0; k < d; k++) {
            const on = (masks[row * bytes + (k >> 3)] >> (k & 7)) & 1;
            out[at + k] = on ? values[v++] : 0;
          }
        };
      }
      case 'hashed': {
        const t = this.f32(e.table);
        return (f, id, out, at) => {
          const h = e.fields[f];
          const row = h.offset + hashBucket(h, id);
          for (let k = 0; k < d; k++) out[at + k] = t[row * d + k];
        };
      }
      case 'qr': {
        const q = this.f32(e.quotient);
        const r = this.f32(e.remainder);
        const c = e.collisions;
        const mult = e.operation === 'mult';
        return (f, id, out, at) => {
          const field = e.fields[f];
          if (!field.compressed) {
            const base = (field.qOffset + id) * d;
            for (let k = 0; k < d; k++) out[at + k] = q[base + k];
            return;
          }
          const qb = (field.qOffset + Math.floor(id / c)) * d;
          const rb = (field.rOffset + (id % c)) * d;
          for (let k = 0; k < d; k++) {
            out[at + k] = mult
              ? Math.fround(q[qb + k] * r[rb + k])
              : Math.fround(q[qb + k] + r[rb + k]);
          }
        };
      }
      case 'mixed-dim': {
        const tables = e.fields.map((x) => this.f32(x.table));
        const projections = e.fields.map((x) => (x.projection ? this.f32(x.projection) : null));
        return (f, id, out, at) => {
          const t = tables[f];
          const p = projections[f];
          const df = t.length / this.model.file.dataset.fields[f].rows;
          const base = id * df;
          if (!p) {
            for (let k = 0; k < d; k++) out[at + k] = t[base + k];
            return;
          }
          for (let k = 0; k < d; k++) out[at + k] = 0;
          for (let i = 0; i < df; i++) {
            const x = t[base + i];
            for (let k = 0; k < d; k++) out[at + k] += x * p[i * d + k];
          }
        };
      }
    }
  }

  private readonly logitOut = new Float64Array(1);

  private runMlp(mlp: Mlp, input: Float64Array): number {
    let x = input;
    for (const h of mlp.hidden) {
      const y = h.out;
      applyDense(h.linear, x, y);
      if (h.norm) {
        const { scale, shift } = h.norm;
        for (let j = 0; j < y.length; j++) {
          const v = y[j] * scale[j] + shift[j];
          y[j] = v > 0 ? v : 0;
        }
      } else {
        for (let j = 0; j < y.length; j++) if (!(y[j] > 0)) y[j] = 0;
      }
      x = y;
    }
    if (!mlp.output) throw new Error('the MLP has no output layer');
    applyDense(mlp.output, x, this.logitOut);
    return this.logitOut[0];
  }

  private modelForward(a: Architecture): (emb: Float64Array, dense: Float32Array | null) => number {
    const m = this.numFields;
    const d = this.dim;
    switch (a.model) {
      case 'fm':
      case 'deepfm':
      case 'widedeep': {
        const mlp = a.mlp ? this.mlp(a.mlp) : null;
        const bias = this.f32(a.bias)[0];
        const fm = a.model !== 'widedeep';
        return (emb) => {
          let logit = bias;
          if (fm) {
            // 0.5 * sum_k [(sum_i v_ik)^2 - sum_i v_ik^2]
            let pair = 0;
            for (let k = 0; k < d; k++) {
              let s = 0;
              let sq = 0;
              for (let f = 0; f < m; f++) {
                const v = emb[f * d + k];
                s += v;
                sq += v * v;
              }
              pair += s * s - sq;
            }
            logit += 0.5 * pair;
          }
          return mlp ? logit + this.runMlp(mlp, emb) : logit;
        };
      }
      case 'autoint': {
        const e = a.attentionDim;
        const heads = a.numHeads;
        const hd = e / heads;
        const project = this.dense(a.attentionEmbedding);
        const layers = a.layers.map((l) => ({
          inProj: this.dense(l.inProj),
          outProj: this.dense(l.outProj),
        }));
        const residual = a.residual ? this.dense(a.residual) : null;
        const output = this.dense(a.output);
        const mlp = a.mlp ? this.mlp(a.mlp) : null;
        return (emb) => {
          let x = new Float64Array(m * e);
          const row = new Float64Array(e);
          const input = new Float64Array(d);
          for (let f = 0; f < m; f++) {
            for (let k = 0; k < d; k++) input[k] = emb[f * d + k];
            applyDense(project, input, row);
            x.set(row, f * e);
          }
          const packed = new Float64Array(3 * e);
          const qkv = new Float64Array(m * 3 * e);
          const context = new Float64Array(m * e);
          const scores = new Float64Array(m);
          for (const layer of layers) {
            for (let f = 0; f < m; f++) {
              applyDense(layer.inProj, x.subarray(f * e, (f + 1) * e), packed);
              qkv.set(packed, f * 3 * e);
            }
            const scale = 1 / Math.sqrt(hd);
            for (let h = 0; h < heads; h++) {
              for (let i = 0; i < m; i++) {
                let max = -Infinity;
                for (let j = 0; j < m; j++) {
                  let s = 0;
                  for (let k = 0; k < hd; k++) {
                    s += qkv[i * 3 * e + h * hd + k] * scale * qkv[j * 3 * e + e + h * hd + k];
                  }
                  scores[j] = s;
                  if (s > max) max = s;
                }
                let sum = 0;
                for (let j = 0; j < m; j++) sum += scores[j] = Math.exp(scores[j] - max);
                for (let k = 0; k < hd; k++) {
                  let c = 0;
                  for (let j = 0; j < m; j++) c += scores[j] * qkv[j * 3 * e + 2 * e + h * hd + k];
                  context[i * e + h * hd + k] = c / sum;
                }
              }
            }
            const next = new Float64Array(m * e);
            for (let f = 0; f < m; f++) {
              applyDense(layer.outProj, context.subarray(f * e, (f + 1) * e), row);
              next.set(row, f * e);
            }
            x = next;
          }
          if (residual) {
            for (let f = 0; f < m; f++) {
              for (let k = 0; k < d; k++) input[k] = emb[f * d + k];
              applyDense(residual, input, row);
              for (let k = 0; k < e; k++) x[f * e + k] += row[k];
            }
          }
          for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0;
          const out = new Float64Array(1);
          applyDense(output, x, out);
          return mlp ? out[0] + this.runMlp(mlp, emb) : out[0];
        };
      }
      case 'dlrm': {
        const bottom = a.bottom.map((l) => this.dense(l));
        const top = a.top.map((l) => this.dense(l));
        return (emb, dense) => {
          let input = emb;
          if (bottom.length > 0) {
            if (!dense || dense.length !== a.numDense) {
              throw new Error(`DLRM reads ${a.numDense} dense features per row`);
            }
            let x = Float64Array.from(dense);
            for (const l of bottom) {
              const y = new Float64Array(l.outputs);
              applyDense(l, x, y);
              for (let j = 0; j < y.length; j++) if (y[j] < 0) y[j] = 0;
              x = y;
            }
            input = new Float64Array(x.length + emb.length);
            input.set(x);
            input.set(emb, x.length);
          }
          let x = input;
          top.forEach((l, i) => {
            const y = new Float64Array(l.outputs);
            applyDense(l, x, y);
            if (i < top.length - 1) for (let j = 0; j < y.length; j++) if (y[j] < 0) y[j] = 0;
            x = y;
          });
          return x[0];
        };
      }
    }
  }

  /** The logit of one row given its per-field ids (and dense features, for DLRM). */
  logit(ids: Int32Array, dense: Float32Array | null, scratch?: Float64Array): number {
    const m = this.numFields;
    const d = this.dim;
    const emb = scratch ?? new Float64Array(m * d);
    for (let f = 0; f < m; f++) this.fieldVector(f, ids[f], emb, f * d);
    const a = this.architecture;
    let logit = this.forward(emb, dense);
    if (a.model === 'fm' || a.model === 'deepfm' || a.model === 'widedeep') {
      const linear = this.f32(a.linear);
      for (let f = 0; f < m; f++) logit += linear[this.offsets[f] + ids[f]];
    }
    return logit;
  }

  probability(ids: Int32Array, dense: Float32Array | null, scratch?: Float64Array): number {
    return 1 / (1 + Math.exp(-this.logit(ids, dense, scratch)));
  }
}
