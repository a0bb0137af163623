import { useMemo, useState } from 'react';
import {
  RANKING_METRIC_KEYS,
  RANKING_METRIC_LABELS,
  type SeqRunResult,
} from '../../workers/sequence/seqProtocol';
import { formatCount, formatMetric } from '../format';
import { ItemFrequencyChart } from '../charts/ItemFrequencyChart';
import { LossChartView } from '../charts/LossChart';
import {
  DEFAULT_RANKING_METRICS,
  RANKING_COLOURS,
  RankingChart,
  type RankingMetricKey,
} from '../charts/RankingChart';
import { SeqParamChart } from '../charts/SeqParamChart';
import { SeqTimingChart } from '../charts/SeqTimingChart';
import { useRedrawTurn } from '../charts/useRedrawTurn';
import { seqController } from '../state/seqController';
import { blockSpans, cutRanks, formatDuration, ratioText } from '../state/seqFigures';
import type { SeqState } from '../state/seqStore';
import { useDeferredSeqStore } from '../state/useDeferredSeqStore';
import { ARCH_ERROR_KEY, useSeqPlan } from '../state/useSeqPlan';
import { SHARING_TEXT } from '../state/seqRunSummary';
import { DatasetSummaryPanel } from './DatasetSummaryPanel';
import { MountWhenIdle } from './MountWhenIdle';
import { RunHistoryPanel } from './RunHistoryPanel';
import { ComparePanel } from './ComparePanel';
import { OpenedRun } from './RunDetail';

const selectRun = (s: SeqState) => s.run;
const selectPreviewError = (s: SeqState) => s.preview?.error ?? null;

const methodLabel = (method: string) => (method === 'cprec' ? 'CpRec' : 'NextItNet');

function SeqRunStatus() {
  const run = useDeferredSeqStore(selectRun);
  const pct = run.totalSteps > 0 ? Math.min(100, (100 * run.stepsDone) / run.totalSteps) : 0;
  const epochs = run.config?.train.epochs ?? 0;
  const epoch = Math.min(run.epoch + 1, Math.max(1, epochs));
  const showEta = run.state === 'running' || run.state === 'paused';
  return (
    <section className="run-status" data-testid="seq-run-status">
      <div>
        state <strong data-testid="seq-run-state">{run.state}</strong>
      </div>
      <div>
        {run.totalSteps > 0 && `epoch ${epoch} of ${epochs} · `}step{' '}
        <span data-testid="seq-run-step">{run.stepsDone}</span> / {run.totalSteps}
      </div>
      <div>{run.msPerStep > 0 ? `${run.msPerStep.toFixed(1)} ms/step` : ''}</div>
      <progress max={100} value={pct} aria-label="training progress" />
      {showEta && (
        <div>
          ETA <span data-testid="seq-run-eta">{formatDuration(run.etaSeconds)}</span>
        </div>
      )}
      {run.error && <div className="run-error">{run.error}</div>}
      {run.result?.stopReason && (
        <div className="run-error" data-testid="seq-run-stop-reason">
          {run.result.stopReason}
        </div>
      )}
    </section>
  );
}

/** What Train would build: parameters by part against the uncompressed NextItNet. */
function SeqParamCard() {
  const plan = useSeqPlan();
  const previewError = useDeferredSeqStore(selectPreviewError);
  const { breakdown, summary } = plan;
  const cprec = plan.config.method === 'cprec';
  const label = methodLabel(plan.config.method);
  const archError = plan.errors[ARCH_ERROR_KEY];
  return (
    <section
      className="chart-card"
      data-testid="seq-param-bar"
      data-params={breakdown?.params.total ?? ''}
      data-uncompressed-params={breakdown?.uncompressed.total ?? ''}
    >
      <h3>
        Parameters by part{' '}
        {breakdown && (
          <small>
            {label} {formatCount(breakdown.params.total)}
            {cprec && (
              <> · NextItNet (uncompressed) {formatCount(breakdown.uncompressed.total)}</>
            )}{' '}
            · <span data-testid="seq-compression-ratio">{ratioText(breakdown.ratio)}</span>
          </small>
        )}
      </h3>
      {archError && (
        <p className="field-error" data-testid="seq-param-error">
          {archError}
        </p>
      )}
      {!breakdown && !archError && (
        <p className="muted small">
          {previewError && !summary
            ? `The data cannot be described: ${previewError}`
            : 'Waiting for the engine to describe the data…'}
        </p>
      )}
      {breakdown && (
        <>
          <MountWhenIdle height={cprec ? 150 : 110} label="parameters">
            <SeqParamChart
              modelLabel={label}
              params={breakdown.params}
              uncompressed={cprec ? breakdown.uncompressed : null}
            />
          </MountWhenIdle>
          <p className="legend-note">
            {cprec
              ? `Blocks: ${blockSpans(breakdown.arch)
                  .map(
                    (b) =>
                      `ranks ${b.fromRank.toLocaleString('en-US')}–${b.toRank.toLocaleString('en-US')} at d ${b.dim}`,
                  )
                  .join(' · ')}. `
              : `${breakdown.arch.numItems.toLocaleString('en-US')} items at d ${breakdown.arch.dim}. `}
            {breakdown.params.distinctKernels} distinct conv kernel
            {breakdown.params.distinctKernels === 1 ? '' : 's'} for{' '}
            {breakdown.arch.dilations.length} convs ({SHARING_TEXT[breakdown.arch.sharing]}).
          </p>
        </>
      )}
    </section>
  );
}

/** The item-frequency curve of the form's data, with the cuts of CpRec's blocks. */
function ItemFrequencyCard() {
  const plan = useSeqPlan();
  const { summary, breakdown } = plan;
  if (!summary) return null;
  const cprec = plan.config.method === 'cprec';
  const cuts = cprec && breakdown ? cutRanks(breakdown.arch) : [];
  return (
    <section
      className="chart-card"
      data-testid="seq-frequency-chart"
      data-items={summary.numItems}
      data-cuts={cuts.join(',')}
    >
      <h3>
        {cprec ? "Item frequency by rank, with CpRec's block cuts" : 'Item frequency by rank'}{' '}
        <small>
          {summary.name} · {formatCount(summary.numSequences)} sequences of up to {summary.maxLen}{' '}
          items · {formatCount(summary.numItems)} items · split {summary.splitSizes.train}/
          {summary.splitSizes.validation}/{summary.splitSizes.test}
        </small>
      </h3>
      <MountWhenIdle height={240} label="item-frequency">
        <ItemFrequencyChart frequencies={summary.frequencies} cuts={cuts} />
      </MountWhenIdle>
      <p className="legend-note">
        {cprec
          ? 'Dashed lines: where one block ends. Items left of the first cut keep the full embedding and softmax; each block to the right gets a dimension f times smaller.'
          : 'Choose CpRec to see where its frequency blocks would cut this curve.'}
      </p>
    </section>
  );
}

function SeqLossCard() {
  const run = useDeferredSeqStore(selectRun);
  const { lossPoints: points, firstLoss, lastLoss } = run;
  // Redrawn in its turn (see redrawQueue.ts): never in the same task as the ranking chart.
  const view = useRedrawTurn(
    useMemo(() => ({ points, firstLoss, lastLoss }), [points, firstLoss, lastLoss]),
    'loss',
  );
  return <LossChartView testId="seq-loss-chart" {...view} />;
}

/** The steps a run with the form's settings would take (before the engine says). */
function plannedSteps(plan: ReturnType<typeof useSeqPlan>): number {
  const train = plan.summary?.splitSizes.train ?? 0;
  const { batchSize, epochs, maxSteps } = plan.config.train;
  const steps = Math.ceil(train / Math.max(1, batchSize)) * epochs;
  return maxSteps > 0 ? Math.min(maxSteps, steps) : steps;
}

function RankingCard() {
  const run = useDeferredSeqStore(selectRun);
  const plan = useSeqPlan();
  const [metrics, setMetrics] = useState<RankingMetricKey[]>(DEFAULT_RANKING_METRICS);
  const evaluations = run.evaluations;
  const markers = run.markers;
  // The chart redraws in its turn (see redrawQueue.ts); the figures above it follow at once.
  const shown = useRedrawTurn(
    useMemo(() => ({ evaluations, markers }), [evaluations, markers]),
    'ranking',
  );
  const baseline = run.dataset?.popularityTest ?? plan.summary?.popularityTest ?? null;
  const last = evaluations.at(-1);
  let best = evaluations[0];
  for (const e of evaluations) if (e.validation.mrr20 > best.validation.mrr20) best = e;
  const toggle = (k: RankingMetricKey) =>
    setMetrics((m) =>
      m.includes(k)
        ? m.filter((x) => x !== k)
        : RANKING_METRIC_KEYS.filter((x) => x === k || m.includes(x)),
    );
  return (
    <section
      className="chart-card"
      data-testid="seq-ranking-chart"
      data-points={evaluations.length}
      data-last-mrr20={last ? last.validation.mrr20 : ''}
    >
      <h3>
        Validation ranking metrics{' '}
        <small>
          latest MRR@20 {formatMetric(last?.validation.mrr20)}
          {best && (
            <>
              {' '}
              · best {formatMetric(best.validation.mrr20)} at step {best.step} (its weights are
              kept)
            </>
          )}
        </small>
      </h3>
      <div className="chart-controls">
        {RANKING_METRIC_KEYS.map((k) => (
          <label key={k}>
            <input
              type="checkbox"
              checked={metrics.includes(k)}
              onChange={() => toggle(k)}
              data-testid={`seq-metric-${k}`}
            />{' '}
            <span
              className="line-swatch"
              style={{ borderTop: `2px solid ${RANKING_COLOURS[k]}` }}
            />
            {RANKING_METRIC_LABELS[k]}
          </label>
        ))}
      </div>
      <MountWhenIdle height={260} label="ranking">
        <RankingChart
          evaluations={shown.evaluations}
          metrics={metrics}
          baseline={baseline}
          totalSteps={run.totalSteps || plannedSteps(plan)}
          markers={shown.markers}
        />
      </MountWhenIdle>
      <p className="legend-note">
        {baseline
          ? 'Dashed lines: the most-popular-item baseline (always recommends the items most frequent in training) on the test split, in the colour of its metric.'
          : ''}
        {evaluations.length === 0 &&
          ' Validation runs at the end of each epoch (or every K steps): its points arrive as the run trains.'}
      </p>
      {run.markers.length > 0 && (
        <ol className="chart-markers">
          {run.markers.map((m, i) => (
            <li key={`${m.step}-${i}`}>
              <b>{i + 1}</b> step {m.step.toLocaleString('en-US')}: {m.label}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const ms = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;

function vsText(value: number, reference: number): string {
  if (!(reference > 0) || !(value > 0)) return '';
  const r = reference / value;
  return r >= 1 ? `${r.toFixed(1)}x faster` : `${(1 / r).toFixed(1)}x slower`;
}

function SeqResultTable({ result }: { result: SeqRunResult }) {
  const label = methodLabel(result.method);
  const { params, uncompressedParams, timing, uncompressedTiming, fastTopK, best } = result;
  return (
    <table className="metrics">
      <tbody>
        {best && (
          <tr>
            <th>model used</th>
            <td data-testid="seq-best-step">step {best.step}</td>
            <td className="muted">
              epoch {Number.isInteger(best.epoch) ? best.epoch : best.epoch.toFixed(2)}: the best
              validation MRR@20 ({formatMetric(best.validation.mrr20)}); its weights were restored
            </td>
          </tr>
        )}
        <tr>
          <th>parameters</th>
          <td data-testid="seq-result-params">{formatCount(params.total)}</td>
          <td className="muted">
            input {formatCount(params.input)} · middle {formatCount(params.middle)} · softmax{' '}
            {formatCount(params.softmax)}
            {result.method === 'cprec' && (
              <>
                {' '}
                — the uncompressed NextItNet has {formatCount(uncompressedParams.total)}:{' '}
                <strong data-testid="seq-result-ratio">{ratioText(result.compressionRatio)}</strong>
              </>
            )}
          </td>
        </tr>
        <tr>
          <th>ms per training step</th>
          <td data-testid="seq-result-ms-per-step">{ms(timing.msPerStep)}</td>
          <td className="muted">
            {uncompressedTiming
              ? `uncompressed ${ms(uncompressedTiming.msPerStep)} (${vsText(timing.msPerStep, uncompressedTiming.msPerStep)})`
              : `median step on ${result.backend}`}
          </td>
        </tr>
        <tr>
          <th>inference per 1,000 sequences</th>
          <td data-testid="seq-result-inference">{ms(timing.inferenceMsPer1000)}</td>
          <td className="muted">
            {uncompressedTiming
              ? `uncompressed ${ms(uncompressedTiming.inferenceMsPer1000)} (${vsText(timing.inferenceMsPer1000, uncompressedTiming.inferenceMsPer1000)})`
              : 'scores over every item (the full distribution)'}
          </td>
        </tr>
        {fastTopK && (
          <tr>
            <th>fast top-20</th>
            <td data-testid="seq-result-fast-topk">{ms(fastTopK.msPer1000)}</td>
            <td className="muted">
              per 1,000 sequences on the host; {pct(fastTopK.blocksExpandedShare)} of the tail
              blocks had to be expanded (a block is skipped when its cluster cannot reach the top
              20)
            </td>
          </tr>
        )}
        <tr>
          <th>run</th>
          <td>{result.steps} steps</td>
          <td className="muted">
            {label} on {result.backend} in {formatDuration(result.seconds)}
          </td>
        </tr>
        <tr>
          <th>model file</th>
          <td colSpan={2}>
            <button
              type="button"
              data-testid="seq-export-button"
              title="The best validation weights as one JSON file: `npm run lab -- score` and the Python reader rank sequences with it"
              onClick={() => void seqController.exportModel(`run-nextitnet-${result.method}.json`)}
            >
              Export
            </button>
          </td>
        </tr>
      </tbody>
    </table>
  );
}

/** The finished run: test metrics beside the most-popular baseline, size and speed. */
function SeqResultCard() {
  const run = useDeferredSeqStore(selectRun);
  const result = run.result;
  if (!result) return null;
  const label = methodLabel(result.method);
  const pop = result.popularityTest;
  return (
    <section className="chart-card" data-testid="seq-result-card">
      <h3>
        Test split{' '}
        <small>
          {label}, {result.test ? `${formatCount(result.test.count)} test sequences` : 'not scored'}
          {result.stoppedEarly ? ' · stopped early' : ''}
        </small>
      </h3>
      <div className="seq-result">
        <table className="metrics" data-testid="seq-test-metrics">
          <thead>
            <tr>
              <th>metric</th>
              <th>{label}</th>
              <th>most popular</th>
              <th>lift</th>
            </tr>
          </thead>
          <tbody>
            {RANKING_METRIC_KEYS.map((k) => (
              <tr key={k}>
                <th>{RANKING_METRIC_LABELS[k]}</th>
                <td data-testid={`seq-test-${k}`}>{formatMetric(result.test?.[k])}</td>
                <td className="muted" data-testid={`seq-popular-${k}`}>
                  {formatMetric(pop[k])}
                </td>
                <td className="muted">
                  {result.test && pop[k] > 0 ? `${(result.test[k] / pop[k]).toFixed(2)}x` : '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <SeqResultTable result={result} />
      </div>
      {result.uncompressedTiming && (
        <>
          <h4 className="seq-subtitle">This model vs uncompressed</h4>
          <div data-testid="seq-timing-chart">
            <MountWhenIdle height={220} label="timing">
              <SeqTimingChart
                modelLabel={label}
                timing={result.timing}
                uncompressed={result.uncompressedTiming}
              />
            </MountWhenIdle>
          </div>
        </>
      )}
    </section>
  );
}

/**
 * The next-item task's dashboard: before, during and after a run, then the runs table (both
 * tasks' runs), the comparison of finished next-item runs and the opened run's card.
 */
export function SeqDashboard() {
  return (
    <main className="dashboard" data-testid="seq-dashboard">
      <SeqRunStatus />
      <SeqParamCard />
      <ItemFrequencyCard />
      <div className="chart-grid">
        <SeqLossCard />
        <RankingCard />
      </div>
      <SeqResultCard />
      <DatasetSummaryPanel />
      <RunHistoryPanel />
      <ComparePanel />
      <OpenedRun />
    </main>
  );
}
