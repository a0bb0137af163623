/**
 * What the headless runner prints while it trains: one progress line (rewritten in place on a
 * terminal, every few seconds otherwise) with steps/s and ETA, a line per evaluation and phase,
 * and the final metrics. Goes to stderr, so stdout stays free for --help.
 */
import type { EngineEvent, RunResult } from '../workers/protocol';

const EVERY_MS_OFF_TERMINAL = 5000;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private lastPrint = 0;
  private open = false;
  private phaseStart = { step: 0, time: Date.now() };
  private phaseLabel = '';

  constructor(private readonly quiet: boolean) {}

  private write(text: string, transient: boolean): void {
    if (this.quiet) return;
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${text}${transient ? '' : '\n'}`);
      this.open = transient;
    } else {
      process.stderr.write(`${text}\n`);
    }
  }

  note(text: string): void {
    if (this.open) this.write('', false);
    this.write(text, false);
  }

  status(text: string): void {
    this.write(text, true);
  }

  event(event: EngineEvent): void {
    switch (event.type) {
      case 'phase':
        this.phaseStart = { step: event.phase.startStep, time: Date.now() };
        this.phaseLabel = `phase ${event.phase.index + 1}/${event.phase.count} ${event.phase.label}`;
        this.note(`${this.phaseLabel}: ${event.phase.plannedSteps} steps`);
        break;
      case 'progress': {
        const b = event.batch;
        const step = b.steps[b.steps.length - 1];
        const now = Date.now();
        if (!this.tty && now - this.lastPrint < EVERY_MS_OFF_TERMINAL) return;
        this.lastPrint = now;
        const done = step - this.phaseStart.step;
        const rate = done / Math.max(1e-3, (now - this.phaseStart.time) / 1000);
        const left = b.totalSteps - step;
        const pct = b.totalSteps > 0 ? ` (${((100 * step) / b.totalSteps).toFixed(0)}%)` : '';
        this.write(
          `${this.phaseLabel} · step ${step}/${b.totalSteps}${pct} · ${rate.toFixed(1)} steps/s · ETA ${duration(left / rate)} · loss ${b.losses[b.losses.length - 1].toFixed(4)}`,
          this.tty,
        );
        break;
      }
      case 'evaluation': {
        const m = event.metrics;
        const extra = Object.entries(m.method)
          .map(([k, v]) => ` · ${k} ${v.toPrecision(4)}`)
          .join('');
        this.note(
          `  eval ${m.phase} epoch ${m.epoch} step ${m.step}: validation AUC ${m.validationAuc.toFixed(4)}, logloss ${m.validationLogloss.toFixed(4)}${extra}`,
        );
        break;
      }
      case 'marker':
        this.note(`  [step ${event.step}] ${event.label}`);
        break;
      default:
        break;
    }
  }

  done(result: RunResult): void {
    const t = result.test;
    const best = result.phases.at(-1)?.bestEvaluation;
    this.note(
      [
        `done: ${result.method.label}, ${result.steps} steps, ${result.msPerStep.toFixed(1)} ms/step`,
        `  parameters ${result.model.totalParams} (${result.model.totalBytes} bytes); embedding reference ${result.model.denseEmbeddingParams}`,
        best ? `  best validation AUC ${best.validationAuc.toFixed(4)} (step ${best.step})` : '',
        t
          ? `  test AUC ${t.auc.toFixed(4)}, logloss ${t.logloss.toFixed(4)}, accuracy ${t.accuracy.toFixed(4)}`
          : '  no test split',
        result.stopReason ? `  stopped: ${result.stopReason}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
}
