/**
 * UI state of dataset loading: the chosen files, the load form, the column mapping, the load in
 * progress and the dataset the worker holds. Kept apart from the run store: a load and a run
 * have separate lifecycles.
 */
import { create } from 'zustand';
import type {
  ColumnPeek,
  DatasetLoadProgress,
  LoadedDatasetInfo,
} from '../../workers/datasetProtocol';
import { DEFAULT_DATASET_FORM, type ColumnRole, type DatasetForm } from './datasetForm';

export type LoadStatus = 'idle' | 'loading' | 'cancelling';

export interface DatasetFailure {
  /** 'invalid' = the file(s) could not be read as a dataset; 'cancelled'; 'error' = anything else. */
  kind: 'invalid' | 'cancelled' | 'error';
  message: string;
}

export interface DatasetState {
  files: File[];
  form: DatasetForm;
  /** Header and first rows of the first file, for the column-mapping step. */
  peek: ColumnPeek | null;
  peekError: string | null;
  columnRoles: ColumnRole[];
  status: LoadStatus;
  progress: DatasetLoadProgress | null;
  /** Seconds left for the load at the recent byte rate, or null when unknown. */
  etaSeconds: number | null;
  /** The dataset the worker holds now (kept when a later load fails). */
  loaded: LoadedDatasetInfo | null;
  failure: DatasetFailure | null;
  setFiles(files: File[]): void;
  setFormField<K extends keyof DatasetForm>(key: K, value: DatasetForm[K]): void;
  setColumnRole(index: number, role: ColumnRole): void;
}

export const useDatasetStore = create<DatasetState>()((set) => ({
  files: [],
  form: DEFAULT_DATASET_FORM,
  peek: null,
  peekError: null,
  columnRoles: [],
  status: 'idle',
  progress: null,
  etaSeconds: null,
  loaded: null,
  failure: null,
  setFiles: (files) => set({ files, peek: null, peekError: null, columnRoles: [], failure: null }),
  setFormField: (key, value) => set((s) => ({ form: { ...s.form, [key]: value } })),
  setColumnRole: (index, role) =>
    set((s) => {
      const columnRoles = [...s.columnRoles];
      // One label and one time column: choosing one elsewhere makes the old one a field again.
      if (role === 'label' || role === 'time') {
        for (let i = 0; i < columnRoles.length; i++)
          if (columnRoles[i] === role) columnRoles[i] = role === 'label' ? 'ignore' : 'categorical';
      }
      columnRoles[index] = role;
      return { columnRoles };
    }),
}));
