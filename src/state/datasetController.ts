/**
 * Drives dataset loads through the run controller's engine bridge: streams progress into the
 * dataset store, turns worker errors into messages, and never lets a failure lose what the user
 * has (the previous dataset stays loaded in the worker, the form and the files stay chosen).
 */
import { etaSeconds, StepRate } from './seqFigures';
import * as Comlink from 'comlink';
import type { ColumnPeek, DatasetLoadProgress } from '../../workers/datasetProtocol';
import { EngineCrashError } from '../bridge/engineBridge';
import {
  guessColumnRoles,
  loadOptionsFromForm,
  mappingFromRoles,
  type ColumnRole,
  type DatasetForm,
} from './datasetForm';
import { useDatasetStore } from './datasetStore';
import { useLabStore } from './labStore';
import { useSeqStore } from './seqStore';
import { runController } from './runController';

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function nameOf(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

/** A form and a column mapping as load options, with their errors. */
export function loadOptionsOf(form: DatasetForm, peek: ColumnPeek | null, roles: ColumnRole[]) {
  const { mapping, error } = peek
    ? mappingFromRoles(peek.header, roles)
    : { mapping: null, error: null };
  return loadOptionsFromForm(form, mapping, error);
}

class DatasetController {
  private loadId = 0;

  constructor() {
    // The dataset lives in the worker: if the engine restarts, it is gone.
    useLabStore.subscribe((s, prev) => {
      if (s.engineStatus === 'restarting' && prev.engineStatus !== 'restarting') {
        this.onEngineLost();
      }
    });
  }

  async load(): Promise<void> {
    const store = useDatasetStore.getState();
    if (store.status !== 'idle') return;
    if (store.files.length === 0) {
      useDatasetStore.setState({
        failure: { kind: 'invalid', message: 'Choose or drop a file first' },
      });
      return;
    }
    const { options, errors } = loadOptionsOf(store.form, store.peek, store.columnRoles);
    const problems = Object.values(errors);
    if (problems.length > 0) {
      useDatasetStore.setState({ failure: { kind: 'invalid', message: problems.join('; ') } });
      return;
    }
    const id = ++this.loadId;
    const files = store.files;
    useDatasetStore.setState({
      status: 'loading',
      progress: null,
      etaSeconds: null,
      failure: null,
    });
    const rate = new StepRate(5_000);
    const onProgress = Comlink.proxy((progress: DatasetLoadProgress) => {
      if (id !== this.loadId || useDatasetStore.getState().status === 'idle') return;
      rate.add(performance.now(), progress.bytesRead);
      const eta =
        progress.totalBytes === null
          ? null
          : etaSeconds(progress.bytesRead, progress.totalBytes, rate.perSecond());
      useDatasetStore.setState({ progress, etaSeconds: eta });
    });
    try {
      const info = await runController.bridge.call((api) =>
        api.loadDataset(files, options, onProgress),
      );
      if (id !== this.loadId) return;
      useDatasetStore.setState({ status: 'idle', progress: null, loaded: info, failure: null });
      // Ranking models train on CTR data; sequences are for sequence models: the lab shows the
      // task that can train on the file, with the file as its data.
      if (info.kind === 'ctr') {
        useLabStore.getState().setForm('source', 'loaded');
        useSeqStore.getState().setTask('ctr');
      } else {
        useSeqStore.getState().setForm('seq.source', 'loaded');
        useSeqStore.getState().setTask('seq');
      }
    } catch (err) {
      if (id !== this.loadId) return;
      const name = nameOf(err);
      const kept = useDatasetStore.getState().loaded;
      const keptNote = kept ? ` The dataset loaded before (${kept.name}) is kept.` : '';
      if (name === 'AbortError') {
        useDatasetStore.setState({
          status: 'idle',
          progress: null,
          failure: { kind: 'cancelled', message: `Load cancelled.${keptNote}` },
        });
      } else if (err instanceof EngineCrashError) {
        // onEngineLost has cleared `loaded`; say what happened to this load.
        useDatasetStore.setState({
          status: 'idle',
          progress: null,
          failure: {
            kind: 'error',
            message: `The engine stopped while loading (${messageOf(err)}); load the files again.`,
          },
        });
      } else {
        useDatasetStore.setState({
          status: 'idle',
          progress: null,
          failure: {
            kind: name === 'DatasetLoadError' ? 'invalid' : 'error',
            message: `Could not load ${files.map((f) => f.name).join(', ')}: ${messageOf(err)}.${keptNote}`,
          },
        });
      }
    }
  }

  cancel(): void {
    if (useDatasetStore.getState().status !== 'loading') return;
    useDatasetStore.setState({ status: 'cancelling' });
    void runController.bridge.call((api) => api.cancelLoad()).catch(() => undefined);
  }

  async clear(): Promise<void> {
    try {
      await runController.bridge.call((api) => api.clearDataset());
    } catch {
      // A dead engine holds no dataset either.
    }
    useDatasetStore.setState({ loaded: null, failure: null });
    const lab = useLabStore.getState();
    if (lab.form['source'] === 'loaded') lab.setForm('source', 'synthetic');
    const seq = useSeqStore.getState();
    if (seq.form['seq.source'] === 'loaded') seq.setForm('seq.source', 'synthetic');
  }

  /** Reads the header of the first chosen file for the column-mapping step. */
  async peekColumns(): Promise<void> {
    const file = useDatasetStore.getState().files[0];
    if (!file) return;
    try {
      const peek = await runController.bridge.call((api) => api.peekColumns(file));
      if (useDatasetStore.getState().files[0] !== file) return;
      useDatasetStore.setState({ peek, peekError: null, columnRoles: guessColumnRoles(peek) });
    } catch (err) {
      useDatasetStore.setState({
        peek: null,
        peekError: `Could not read the columns of ${file.name}: ${messageOf(err)}`,
      });
    }
  }

  private onEngineLost(): void {
    const { loaded } = useDatasetStore.getState();
    if (!loaded) return;
    useDatasetStore.setState({
      loaded: null,
      failure: {
        kind: 'error',
        message: `The engine restarted, so the loaded dataset (${loaded.name}) is gone: load it again.`,
      },
    });
  }
}

export const datasetController = new DatasetController();
