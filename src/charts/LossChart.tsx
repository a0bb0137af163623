import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { LabState } from '../state/labStore';
import { useDeferredLabStore } from '../state/useDeferredStore';
import { formatMetric } from '../format';

/** Train loss per step: bucket means of the raw batch losses, and their moving average. */
const selectLossPoints = (s: LabState) => s.run.lossPoints;
const selectFirstLoss = (s: LabState) => s.run.firstLoss;
const selectLastLoss = (s: LabState) => s.run.lastLoss;

export function LossChart() {
  const points = useDeferredLabStore(selectLossPoints);
  const firstLoss = useDeferredLabStore(selectFirstLoss);
  const lastLoss = useDeferredLabStore(selectLastLoss);
  return (
    <section
      className="chart-card"
      data-testid="loss-chart"
      data-points={points.length}
      data-first-loss={Number.isFinite(firstLoss) ? firstLoss : ''}
      data-last-loss={Number.isFinite(lastLoss) ? lastLoss : ''}
    >
      <h3>
        Train loss{' '}
        <small>
          first 20 steps {formatMetric(firstLoss)} → last 20 {formatMetric(lastLoss)}
        </small>
      </h3>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={points} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" stroke="#e3e6ea" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} tickCount={6} />
          <YAxis domain={['auto', 'auto']} width={56} tickFormatter={(v: number) => v.toFixed(3)} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} />
          <Legend />
          <Line
            type="monotone"
            dataKey="loss"
            name="batch loss"
            stroke="#9db7d8"
            dot={false}
            isAnimationActive={false}
          />
          <Line
            type="monotone"
            dataKey="smoothed"
            name="moving average"
            stroke="#1f5fa8"
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </ResponsiveContainer>
    </section>
  );
}
