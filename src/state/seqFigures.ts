/**
 * Pure figures of the sequence task's panels: the parameters a config builds (against the
 * uncompressed NextItNet), the item-frequency curve thinned for a log-log chart, CpRec's block
 * cuts as ranks, and the run's ETA. No React, no engine: unit-tested on their own.
 */
import {
  architectureOf,
  seqParamCounts,
  uncompressedOf,
  type SeqArchitecture,
  type SeqParamCounts,
  type SeqRunConfig,
} from '../../workers/sequence/seqProtocol';

export interface ParamBreakdown {
  arch: SeqArchitecture;
  params: SeqParamCounts;
  uncompressed: SeqParamCounts;
  /** Uncompressed parameters / this model's parameters. */
  ratio: number;
}

/**
 * The parameters of the model `config` builds over `numItems` items and of the uncompressed
 * NextItNet beside it; `error` is architectureOf's message when the config cannot be built
 * (a cut point outside the vocabulary, a block dimension below 1).
 */
export function paramBreakdown(
  config: SeqRunConfig,
  numItems: number,
): { breakdown: ParamBreakdown | null; error: string | null } {
  let arch: SeqArchitecture;
  try {
    arch = architectureOf(config, numItems);
  } catch (err) {
    return { breakdown: null, error: err instanceof Error ? err.message : String(err) };
  }
  const params = seqParamCounts(arch);
  const uncompressed = seqParamCounts(uncompressedOf(arch));
  return {
    breakdown: { arch, params, uncompressed, ratio: uncompressed.total / params.total },
    error: null,
  };
}

/** "3.4x fewer parameters" (or more, or the same). */
export function ratioText(ratio: number): string {
  if (!Number.isFinite(ratio) || ratio <= 0) return '–';
  if (Math.abs(ratio - 1) < 0.005) return '1.0x (uncompressed)';
  return ratio > 1
    ? `${ratio.toFixed(ratio >= 10 ? 0 : 1)}x fewer parameters`
    : `${(1 / ratio).toFixed(1)}x more parameters`;
}

export interface FrequencyPoint {
  /** 1-based frequency rank. */
  rank: number;
  count: number;
}

/**
 * The item-frequency curve (counts in rank order, most frequent first) as at most about
 * `maxPoints` points spread evenly on a log rank axis. Items never seen (count 0) cannot be drawn
 * on a log axis and are left out; the first and the last seen item are always kept.
 */
export function frequencyCurve(frequencies: ArrayLike<number>, maxPoints = 240): FrequencyPoint[] {
  let last = frequencies.length;
  while (last > 0 && !(frequencies[last - 1] > 0)) last--;
  if (last === 0) return [];
  const ranks = new Set<number>([1, last]);
  const steps = Math.max(2, maxPoints);
  const logLast = Math.log(last);
  for (let i = 0; i < steps; i++) ranks.add(Math.round(Math.exp((logLast * i) / (steps - 1))));
  return [...ranks]
    .sort((a, b) => a - b)
    .filter((r) => r >= 1 && r <= last && frequencies[r - 1] > 0)
    .map((rank) => ({ rank, count: frequencies[rank - 1] }));
}

export interface BlockSpan {
  /** 1-based, inclusive. */
  fromRank: number;
  toRank: number;
  dim: number;
}

/** CpRec's blocks: the frequency ranks each holds and its embedding dimension. */
export function blockSpans(arch: SeqArchitecture): BlockSpan[] {
  return arch.cuts.map((to, k) => ({
    fromRank: k === 0 ? 1 : arch.cuts[k - 1] + 1,
    toRank: to,
    dim: arch.blockDims[k],
  }));
}

/** The ranks where one block ends and the next begins (the last cut is the vocabulary's end). */
export function cutRanks(arch: SeqArchitecture): number[] {
  return arch.cuts.slice(0, -1);
}

/**
 * Steps per second over a sliding window of (time, step) samples, from the progress the engine
 * reports; the window restarts after a pause so the pause does not count.
 */
export class StepRate {
  private samples: { t: number; step: number }[] = [];

  constructor(private readonly windowMs = 15_000) {}

  add(t: number, step: number): void {
    this.samples.push({ t, step });
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
  }

  reset(): void {
    this.samples = [];
  }

  /** Steps per second, or null before two samples a little apart. */
  perSecond(): number | null {
    if (this.samples.length < 2) return null;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    if (b.t - a.t < 200 || b.step <= a.step) return null;
    return ((b.step - a.step) * 1000) / (b.t - a.t);
  }
}

/** Seconds left at `stepsPerSecond`, or null when unknown. */
export function etaSeconds(
  stepsDone: number,
  totalSteps: number,
  stepsPerSecond: number | null,
): number | null {
  if (stepsPerSecond === null || !(stepsPerSecond > 0) || totalSteps <= 0) return null;
  return Math.max(0, totalSteps - stepsDone) / stepsPerSecond;
}

/** "42 s", "3 min 05 s", "1 h 02 min". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
