import { isRunBusy, useLabStore } from '../state/labStore';
import { useSeqStore } from '../state/seqStore';
import type { LabTask } from '../state/seqForm';

const TASKS: { task: LabTask; label: string; title: string }[] = [
  {
    task: 'ctr',
    label: 'Click-through ranking',
    title: 'Rank items by predicted click probability: FM, DeepFM, DLRM... with PEP, UMEC...',
  },
  {
    task: 'seq',
    label: 'Next-item (sequences)',
    title: 'Recommend the next item of a session: NextItNet, compressed by CpRec',
  },
];

/** Which of the lab's two tasks the form and the dashboard show; fixed while a run holds the engine. */
export function TaskSwitch() {
  const task = useSeqStore((s) => s.task);
  const setTask = useSeqStore((s) => s.setTask);
  const ctrBusy = useLabStore((s) => isRunBusy(s.run.state));
  const seqBusy = useSeqStore((s) => isRunBusy(s.run.state));
  const busy = ctrBusy || seqBusy;
  return (
    <div className="task-switch" role="group" aria-label="Task" data-testid="task-switch">
      {TASKS.map((t) => (
        <button
          key={t.task}
          type="button"
          aria-pressed={task === t.task}
          className={task === t.task ? 'active' : undefined}
          data-testid={`task-${t.task}`}
          disabled={busy && task !== t.task}
          title={busy && task !== t.task ? 'Stop the run to switch tasks' : t.title}
          onClick={() => setTask(t.task)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}
