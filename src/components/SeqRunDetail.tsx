/**
 * A next-item run opened from the runs table or the Pareto chart: its settings, its test metrics
 * beside the most-popular baseline, its size and speed, and its loss and validation ranking
 * curves, drawn from what the run kept (a restored or interrupted run too).
 */
import { useEffect, useRef, useState } from 'react';
import type { SeqHistoryRun } from '../state/labStore';
import { RANKING_METRIC_KEYS, RANKING_METRIC_LABELS } from '../../workers/sequence/seqProtocol';
import { formatBytes, formatCount, formatMetric } from '../format';
import { formatDuration, ratioText } from '../state/seqFigures';
import {
  SEQ_MODEL_LABEL,
  seqBestEvaluation,
  seqMethodLabel,
  seqModelBytes,
  seqOptionsSummary,
  seqRunFlops,
  seqTrainingBudget,
} from '../state/seqRunSummary';
import { LossChartView } from '../charts/LossChart';
import {
  DEFAULT_RANKING_METRICS,
  RANKING_COLOURS,
  RankingChart,
  type RankingMetricKey,
} from '../charts/RankingChart';

const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

export function SeqRunDetail({ run, onClose }: { run: SeqHistoryRun; onClose(): void }) {
  const ref = useRef<HTMLElement>(null);
  const [metrics, setMetrics] = useState<RankingMetricKey[]>(DEFAULT_RANKING_METRICS);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [run.id]);
  const { config, result, dataset } = run;
  const train = config.train;
  const methodLabel = seqMethodLabel(config);
  const options = seqOptionsSummary(config);
  const evaluations = result?.evaluations ?? run.evaluations;
  const best = seqBestEvaluation(result, run.evaluations);
  const baseline = result?.popularityTest ?? dataset?.popularityTest ?? null;
  const points = run.lossPoints;
  const flops = result ? seqRunFlops(result, dataset) : Number.NaN;
  const seconds = result?.seconds ?? run.seconds ?? null;
  const toggle = (k: RankingMetricKey) =>
    setMetrics((m) =>
      m.includes(k)
        ? m.filter((x) => x !== k)
        : RANKING_METRIC_KEYS.filter((x) => x === k || m.includes(x)),
    );
  return (
    <section
      ref={ref}
      className="run-detail"
      data-testid="run-detail"
      data-run-id={run.id}
      data-task="seq"
      data-status={run.status}
    >
      <div className="chart-grid">
        <section className="chart-card">
          <h3>
            <span data-testid="run-detail-title">Run #{run.id}</span>
            <small>
              {run.name} · {methodLabel} · d {train.embeddingDim}
            </small>{' '}
            <button
              type="button"
              className="link-button"
              data-testid="run-detail-close"
              onClick={onClose}
            >
              close
            </button>
          </h3>
          <table className="metrics">
            <tbody>
              <tr>
                <th>status</th>
                <td data-testid="run-detail-status">{run.status}</td>
                <td className="muted">
                  started {new Date(run.createdAt).toLocaleString()}
                  {run.restored ? ' · restored from this browser’s storage' : ''}
                  {run.error ? ` · ${run.error}` : ''}
                </td>
              </tr>
              <tr>
                <th>model</th>
                <td data-testid="run-detail-model">{SEQ_MODEL_LABEL}</td>
                <td className="muted">
                  embedding dim {train.embeddingDim} · dilations {train.dilations.join('-')} (
                  {train.dilations.length / 2} residual block
                  {train.dilations.length === 2 ? '' : 's'})
                </td>
              </tr>
              <tr>
                <th>method</th>
                <td data-testid="run-detail-method">{methodLabel}</td>
                <td className="muted" data-testid="run-detail-options">
                  {options || 'the uncompressed model'}
                </td>
              </tr>
              <tr>
                <th>data</th>
                <td colSpan={2} data-testid="run-detail-data">
                  {dataset
                    ? `${dataset.name} · ${formatCount(dataset.numSequences)} sequences of up to ${dataset.maxLen} items · ${formatCount(dataset.numItems)} items`
                    : config.source === 'synthetic'
                      ? `synthetic sequences: ${config.data.numSequences} of ${config.data.length} items over ${config.data.numItems} items`
                      : 'a loaded sequence file'}
                </td>
              </tr>
              <tr>
                <th>training</th>
                <td colSpan={2}>
                  {seqTrainingBudget(config)} · batch {train.batchSize} · lr {train.learningRate} ·
                  L2 {train.l2} · seed {train.seed}
                  {result?.stopReason && (
                    <span className="muted"> · ended early: {result.stopReason}</span>
                  )}
                </td>
              </tr>
              {result && (
                <>
                  <tr>
                    <th>parameters</th>
                    <td data-testid="run-detail-params">{formatCount(result.params.total)}</td>
                    <td className="muted">
                      input {formatCount(result.params.input)} · middle{' '}
                      {formatCount(result.params.middle)} · softmax{' '}
                      {formatCount(result.params.softmax)}
                      {result.method === 'cprec' &&
                        ` · uncompressed NextItNet ${formatCount(result.uncompressedParams.total)}: ${ratioText(result.compressionRatio)}`}
                    </td>
                  </tr>
                  <tr>
                    <th>size</th>
                    <td data-testid="run-detail-bytes">
                      {formatBytes(seqModelBytes(result.params.total))}
                    </td>
                    <td className="muted">float32 parameters</td>
                  </tr>
                  <tr>
                    <th>FLOPs</th>
                    <td data-testid="run-detail-flops">{formatCount(flops)}</td>
                    <td className="muted">to score one sequence over all items</td>
                  </tr>
                </>
              )}
              <tr>
                <th>best val MRR@20</th>
                <td data-testid="run-detail-best-val">{formatMetric(best?.validation.mrr20)}</td>
                <td className="muted">
                  {best ? `step ${best.step}: the evaluation whose weights the run kept` : ''}
                </td>
              </tr>
              <tr>
                <th>steps</th>
                <td data-testid="run-detail-steps">{result?.steps ?? run.stepsDone}</td>
                <td className="muted">
                  {result
                    ? `${ms(result.timing.msPerStep)} per step · inference ${ms(result.timing.inferenceMsPer1000)} per 1,000 sequences · ${formatDuration(seconds)} on ${result.backend}`
                    : 'steps done before it ended (the curves below go up to the last save)'}
                </td>
              </tr>
            </tbody>
          </table>
        </section>
        <section className="chart-card" data-testid="run-detail-test">
          <h3>
            Test split{' '}
            <small>
              {result?.test
                ? `${formatCount(result.test.count)} test sequences`
                : 'not scored (the run ended before its test)'}
            </small>
          </h3>
          {result?.test && (
            <table className="metrics">
              <thead>
                <tr>
                  <th>metric</th>
                  <th>{methodLabel}</th>
                  <th>most popular</th>
                  <th>lift</th>
                </tr>
              </thead>
              <tbody>
                {RANKING_METRIC_KEYS.map((k) => (
                  <tr key={k}>
                    <th>{RANKING_METRIC_LABELS[k]}</th>
                    <td data-testid={`run-detail-test-${k}`}>{formatMetric(result.test?.[k])}</td>
                    <td className="muted">{formatMetric(result.popularityTest[k])}</td>
                    <td className="muted">
                      {result.test && result.popularityTest[k] > 0
                        ? `${(result.test[k] / result.popularityTest[k]).toFixed(2)}x`
                        : '–'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <div className="chart-grid">
        <LossChartView
          testId="run-detail-loss"
          points={points}
          firstLoss={points[0]?.loss ?? Number.NaN}
          lastLoss={points.at(-1)?.loss ?? Number.NaN}
        />
        <section
          className="chart-card"
          data-testid="run-detail-ranking"
          data-points={evaluations.length}
        >
          <h3>
            Validation ranking metrics{' '}
            <small>dashed: the most-popular baseline on the test split</small>
          </h3>
          <div className="chart-controls">
            {RANKING_METRIC_KEYS.map((k) => (
              <label key={k}>
                <input type="checkbox" checked={metrics.includes(k)} onChange={() => toggle(k)} />{' '}
                <span
                  className="line-swatch"
                  style={{ borderTop: `2px solid ${RANKING_COLOURS[k]}` }}
                />
                {RANKING_METRIC_LABELS[k]}
              </label>
            ))}
          </div>
          <RankingChart
            evaluations={evaluations}
            metrics={metrics}
            baseline={baseline}
            totalSteps={result?.steps ?? run.stepsDone}
            markers={[]}
          />
        </section>
      </div>
    </section>
  );
}
