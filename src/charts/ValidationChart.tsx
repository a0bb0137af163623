import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { formatMetric } from '../format';

/** Validation AUC and logloss per epoch, with the Bayes AUC the generator implies as a ceiling. */
const selectEpochs = (s: LabState) => s.run.epochs;
// Known before the run from the preview, so the reference line is drawn before the first epoch.
const selectBayesAuc = (s: LabState) =>
  s.form['source'] === 'synthetic'
    ? (s.run.dataset?.bayesTestAuc ?? s.dataPreview?.bayesTestAuc ?? null)
    : null;

export function ValidationChart() {
  const epochs = useDeferredLabStore(selectEpochs);
  const bayes = useDeferredLabStore(selectBayesAuc);
  const last = epochs.at(-1);
  return (
    <section
      className="chart-card"
      data-testid="auc-chart"
      data-points={epochs.length}
      data-last-auc={last ? last.validationAuc : ''}
    >
      <h3>
        Validation AUC and logloss{' '}
        <small>
          latest AUC <span data-testid="latest-auc">{formatMetric(last?.validationAuc)}</span>
          {bayes !== null && <> · Bayes AUC (test) {formatMetric(bayes)}</>}
        </small>
      </h3>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={epochs} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ea" />
          <XAxis dataKey="epoch" type="number" domain={[0, 'dataMax']} allowDecimals={false} />
          <YAxis
            yAxisId="auc"
            domain={[0.5, 1]}
            width={48}
            tickFormatter={(v: number) => v.toFixed(2)}
          />
          <YAxis
            yAxisId="logloss"
            orientation="right"
            domain={['auto', 'auto']}
            width={48}
            tickFormatter={(v: number) => v.toFixed(2)}
          />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} />
          <Legend />
          {bayes !== null && (
            <ReferenceLine
              yAxisId="auc"
              y={bayes}
              stroke="#2e7d32"
              strokeDasharray="6 4"
              label={{
                value: 'Bayes AUC',
                position: 'insideTopRight',
                fill: '#2e7d32',
                fontSize: 12,
              }}
            />
          )}
          <Line
            yAxisId="auc"
            dataKey="validationAuc"
            name="validation AUC"
            stroke="#1f5fa8"
            strokeWidth={2}
            dot={epochs.length <= 30}
            isAnimationActive={false}
          />
          <Line
            yAxisId="logloss"
            dataKey="validationLogloss"
            name="validation logloss"
            stroke="#c2571a"
            dot={epochs.length <= 30}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </section>
  );
}
