/**
 * What a compression method declares about itself, as plain data: its options (one typed table
 * that drives the form, the URL, the worker's validation and the headless runner), the models it
 * supports, and the series it streams so that generic charts can draw them.
 *
 * tfjs-free: each method's `spec.ts` exports one of these, and the UI imports those files.
 * The algorithm lives beside it in the method's `method.ts` (worker only).
 */
import type { OptionTable, OptionValue } from '../options';
import type { DataSource, ModelKind, SyntheticDataConfig, TrainConfig } from '../protocol';

/** A one-click setup: the method's options with the data and training settings they go with. */
export interface MethodPreset {
  id: string;
  label: string;
  /** One line: what it sets up and what to expect. */
  summary: string;
  source?: DataSource;
  data?: Partial<SyntheticDataConfig>;
  train?: Partial<TrainConfig>;
  options?: Record<string, OptionValue>;
  /** What the user must do first (e.g. load the Criteo slice), shown when it is applied. */
  requires?: string;
}

/**
 * How a series is recorded:
 * - 'step': one number per training step, streamed in the progress batches with the loss;
 * - 'evaluation': one number per evaluation, sent with the evaluation's metrics;
 * - 'vector': one number per field / layer / bucket, sent now and then (the latest replaces the
 *   one before: a live bar chart);
 * - 'histogram': counts over bins, sent now and then like a vector;
 * - 'points': labelled (x, y) points, e.g. one per retrained snapshot (the latest list replaces
 *   the one before).
 */
export type SeriesKind = 'step' | 'evaluation' | 'vector' | 'histogram' | 'points';

export interface SeriesSpec {
  /** Unique within the method; also the key in events and in the --log file. */
  id: string;
  label: string;
  kind: SeriesKind;
  /** The chart (ChartSpec.id) this series is drawn in. */
  chart: string;
  /** CSS colour of the line or bars. */
  color: string;
  /** Line charts: the axis of this series (default left), for two scales in one chart. */
  axis?: 'left' | 'right';
  /**
   * Line charts: a dashed line (e.g. a quantile of something drawn solid). Scatter charts: a
   * reference, drawn as a horizontal line at its first point's y.
   */
  dashed?: boolean;
  /**
   * Set when a run may not produce this series, saying when it does (e.g. "with the ADMM
   * solver", "for a model with 3 or more hidden layers"); every other series arrives in every run.
   */
  onlyWhen?: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** One line under the title: what the user is looking at. */
  help: string;
  /**
   * 'line': step / evaluation series over steps; 'bars': vectors; 'histogram': histograms;
   * 'scatter': points series.
   */
  type: 'line' | 'bars' | 'histogram' | 'scatter';
  xLabel: string;
  yLabel: string;
  /** Label of the right axis, when a series uses it. */
  rightLabel?: string;
  xScale?: 'linear' | 'log';
  yScale?: 'linear' | 'log';
}

export interface MethodSpec {
  id: string;
  label: string;
  /** One line under the method menu. */
  summary: string;
  /** The paper or code it follows, when there is one. */
  reference?: string;
  /** Position in the method menu. */
  order: number;
  models: readonly ModelKind[];
  options: OptionTable;
  charts: readonly ChartSpec[];
  series: readonly SeriesSpec[];
  presets?: readonly MethodPreset[];
  /**
   * Checks that need the training settings too (e.g. a smaller dimension must be below the
   * model's). Called only when every option is in range; keys are option names.
   */
  check?(options: Record<string, OptionValue>, train: TrainConfig): Record<string, string>;
}

/** Every CTR model of the lab: the default of `MethodSpec.models`. */
export const CTR_MODELS: readonly ModelKind[] = ['fm', 'deepfm', 'widedeep', 'autoint', 'dlrm'];
