import { useMemo } from 'react';
import {
  kernelAssignment,
  RANKING_METRIC_KEYS,
  RANKING_METRIC_LABELS,
  type RankingMetrics,
  type SequenceModelCard,
  type SequenceModelEvaluation,
  type SeqRunConfig,
} from '../../workers/sequence/seqProtocol';
import { formatBytes, formatCount, formatMetric } from '../format';
import { SEQ_PART_COLOURS } from '../charts/SeqParamChart';
import { useDatasetStore } from '../state/datasetStore';
import { blockSpans, ratioText } from '../state/seqFigures';
import { seqConfigFromForm } from '../state/seqForm';
import { SHARING_TEXT } from '../state/seqRunSummary';
import { useSeqStore } from '../state/seqStore';
import { OTHER_PART_COLOUR } from './ModelSummaryCard';

/** The stored metrics the card lists (the file keeps all six; these four as the paper reports). */
const STORED_KEYS = ['mrr5', 'mrr20', 'hr20', 'ndcg20'] as const;

const PART_COLOURS: Record<string, string> = SEQ_PART_COLOURS;
const partColour = (part: string): string => PART_COLOURS[part] ?? OTHER_PART_COLOUR;

/** "NextItNet", or CpRec with its sharing scheme: "CpRec (cross-block)". */
function methodText(card: SequenceModelCard): string {
  if (card.method !== 'cprec') return 'NextItNet';
  const sharing = card.arch.sharing;
  return `CpRec (${sharing === 'none' ? 'no sharing' : sharing})`;
}

function dateText(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso || '–' : d.toLocaleString();
}

/** The data a sequence evaluation would score, in words. */
export function useSeqEvaluationData(): {
  config: Pick<SeqRunConfig, 'source' | 'data'>;
  label: string;
  /** Why the form's data cannot be scored (its settings are not valid), else null. */
  problem: string | null;
} {
  const form = useSeqStore((s) => s.form);
  const loaded = useDatasetStore((s) => s.loaded);
  const { config, errors } = useMemo(() => seqConfigFromForm(form), [form]);
  const dataErrors = Object.entries(errors).filter(
    ([k, v]) => v && (k === 'seq.source' || k.startsWith('seq.data.')),
  );
  const d = config.data;
  const label =
    config.source === 'synthetic'
      ? `the synthetic sequences (${formatCount(d.numSequences)} of ${d.length} over ${formatCount(d.numItems)} items, seed ${d.seed})`
      : `the loaded sequence file${loaded?.kind === 'sequence' ? ` (${loaded.name})` : ''}`;
  return {
    config: { source: config.source, data: config.data },
    label,
    problem:
      dataErrors.length > 0
        ? `The next-item form's data settings are not valid: ${dataErrors.map(([, v]) => v).join('; ')}`
        : null,
  };
}

function liftText(value: number | undefined, baseline: number | undefined): string {
  return value !== undefined && baseline !== undefined && baseline > 0
    ? `${(value / baseline).toFixed(2)}x`
    : '–';
}

function StoredMetrics({ card }: { card: SequenceModelCard }) {
  const { validation, test, popularityTest } = card.metrics;
  const cell = (m: RankingMetrics | null, k: (typeof STORED_KEYS)[number]) => formatMetric(m?.[k]);
  return (
    <table className="metrics" data-testid="model-file-seq-stored">
      <thead>
        <tr>
          <th>stored</th>
          <th>validation</th>
          <th>test</th>
          <th>most popular</th>
        </tr>
      </thead>
      <tbody>
        {STORED_KEYS.map((k) => (
          <tr key={k}>
            <th>{RANKING_METRIC_LABELS[k]}</th>
            <td data-testid={`model-file-seq-val-${k}`}>{cell(validation, k)}</td>
            <td data-testid={`model-file-seq-test-${k}`}>{cell(test, k)}</td>
            <td className="muted" data-testid={`model-file-seq-popular-${k}`}>
              {cell(popularityTest, k)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EvaluationTable({
  evaluation,
  dataLabel,
}: {
  evaluation: SequenceModelEvaluation;
  dataLabel: string;
}) {
  const { test, popularityTest, skippedSequences, unknownItems } = evaluation;
  return (
    <div data-testid="model-file-seq-evaluation">
      <p className="muted">
        Evaluated on the test split of {dataLabel}: {formatCount(test.count)} test sequences.
      </p>
      <table className="metrics">
        <thead>
          <tr>
            <th>test</th>
            <th>this model</th>
            <th>most popular</th>
            <th>lift</th>
          </tr>
        </thead>
        <tbody>
          {RANKING_METRIC_KEYS.map((k) => (
            <tr key={k}>
              <th>{RANKING_METRIC_LABELS[k]}</th>
              <td data-testid={`model-file-seq-eval-${k}`}>{formatMetric(test[k])}</td>
              <td className="muted" data-testid={`model-file-seq-eval-popular-${k}`}>
                {formatMetric(popularityTest[k])}
              </td>
              <td className="muted">{liftText(test[k], popularityTest[k])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {(skippedSequences > 0 || unknownItems > 0) && (
        <p className="muted" data-testid="model-file-seq-skipped">
          Skipped: {formatCount(skippedSequences)} test sequence
          {skippedSequences === 1 ? '' : 's'} with fewer than two items the model knows ·{' '}
          {formatCount(unknownItems)} item{unknownItems === 1 ? '' : 's'} it does not know.
        </p>
      )}
    </div>
  );
}

/**
 * A sequence model file (NextItNet / CpRec) the panel opened: what it is, its parameters per
 * part against the uncompressed NextItNet, the metrics stored in it, and "Evaluate on the
 * sequences", which ranks the test split of the data the next-item form names.
 */
export function SeqModelFileCard({
  card,
  evaluation,
  evaluatedOn,
  busy,
  onEvaluate,
}: {
  card: SequenceModelCard;
  evaluation: SequenceModelEvaluation | null;
  evaluatedOn: string;
  /** Opening or evaluating a file, or a run holds the engine. */
  busy: boolean;
  onEvaluate(config: Pick<SeqRunConfig, 'source' | 'data'>, dataLabel: string): void;
}) {
  const data = useSeqEvaluationData();
  const { arch } = card;
  const kernels = new Set(kernelAssignment(arch.dilations.length, arch.sharing)).size;
  const saved = Math.max(0, card.uncompressedParams - card.params);
  return (
    <div
      data-testid="model-file-card"
      data-kind="sequence"
      data-params={card.params}
      data-uncompressed-params={card.uncompressedParams}
    >
      <p>
        <strong>{card.fileName}</strong> · {formatBytes(card.fileBytes)} file · created{' '}
        {dateText(card.createdAt)}
        <br />
        <span data-testid="model-file-method">{methodText(card)}</span> · trained on{' '}
        <span data-testid="model-file-dataset">{card.datasetName}</span> ·{' '}
        {formatCount(card.numItems)} items · max length {card.maxLen} · d {arch.dim} · dilations{' '}
        {arch.dilations.join('-')}
      </p>
      <p className="muted" data-testid="model-file-seq-blocks">
        {arch.cuts.length === 1
          ? `One block: ${formatCount(arch.numItems)} items at d ${arch.dim}. `
          : `Blocks: ${blockSpans(arch)
              .map(
                (b) =>
                  `ranks ${b.fromRank.toLocaleString('en-US')}–${b.toRank.toLocaleString('en-US')} at d ${b.dim}`,
              )
              .join(' · ')}. `}
        {kernels} distinct conv kernel{kernels === 1 ? '' : 's'} for {arch.dilations.length} convs (
        {SHARING_TEXT[arch.sharing]}).
      </p>
      <div
        className="part-bar"
        role="img"
        aria-label={`parameters per part against the uncompressed NextItNet: ${ratioText(card.compressionRatio)}`}
      >
        {card.parts.map((p) => (
          <span
            key={p.part}
            title={`${p.part}: ${p.params.toLocaleString('en-US')} parameters`}
            style={{ flexGrow: p.params, background: partColour(p.part) }}
          />
        ))}
        {saved > 0 && (
          <span
            title={`${saved.toLocaleString('en-US')} fewer parameters than the uncompressed NextItNet`}
            style={{ flexGrow: saved }}
          />
        )}
      </div>
      <ul className="part-legend">
        {card.parts.map((p) => (
          <li key={p.part} data-testid={`model-file-part-${p.part}`} data-params={p.params}>
            <i style={{ background: partColour(p.part) }} />
            {p.part} {formatCount(p.params)} (
            {((100 * p.params) / Math.max(1, card.params)).toFixed(1)}%)
          </li>
        ))}
      </ul>
      <p>
        {card.params.toLocaleString('en-US')} parameters ({formatBytes(4 * card.params)} as float32)
        · uncompressed NextItNet {card.uncompressedParams.toLocaleString('en-US')}:{' '}
        <strong data-testid="model-file-seq-ratio">{ratioText(card.compressionRatio)}</strong>
      </p>
      <StoredMetrics card={card} />
      {evaluation && <EvaluationTable evaluation={evaluation} dataLabel={evaluatedOn} />}
      {data.problem && <p className="field-error">{data.problem}</p>}
      <p className="muted small">
        Evaluate scores the test split of {data.label}, the data the next-item form names.
      </p>
      <button
        type="button"
        data-testid="model-file-evaluate"
        disabled={busy || data.problem !== null}
        onClick={() => onEvaluate(data.config, data.label)}
      >
        Evaluate on the sequences
      </button>
    </div>
  );
}
