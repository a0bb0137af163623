/**
 * The "auto" backend's memory: the calibration of each model shape (see
 * workers/engine/backendCalibration.ts), kept in localStorage so that a model is measured once
 * per browser and machine, not before every run. "Measure again" forgets one.
 */
import {
  BACKEND_ORDER,
  type BackendCalibration,
  type BackendMeasurement,
} from '../../workers/protocol';

const STORAGE_KEY = 'recsys-lab.backend-choices.v1';
/** Oldest entries go first past this many shapes. */
const MAX_SHAPES = 50;

/** Minimal storage interface (localStorage in the app, a Map in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The key a calibration is remembered under: the model's shape key and the machine's cores
 * (a different thread count changes wasm's figures).
 */
export function choiceKey(shapeKey: string, cores: number): string {
  return `${shapeKey}|cores${cores}`;
}

function isMeasurement(v: unknown): v is BackendMeasurement {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.backend === 'string' &&
    (BACKEND_ORDER as readonly string[]).includes(r.backend) &&
    (r.status === 'measured' || r.status === 'slower' || r.status === 'failed') &&
    (r.msPerStep === null || typeof r.msPerStep === 'number') &&
    (r.samplesPerSecond === null || typeof r.samplesPerSecond === 'number') &&
    typeof r.timedSteps === 'number' &&
    typeof r.adapterDescription === 'string' &&
    typeof r.softwareAdapter === 'boolean' &&
    typeof r.note === 'string'
  );
}

function isCalibration(v: unknown): v is BackendCalibration {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  return (
    typeof c.shapeKey === 'string' &&
    typeof c.chosen === 'string' &&
    (BACKEND_ORDER as readonly string[]).includes(c.chosen) &&
    Array.isArray(c.rows) &&
    c.rows.every(isMeasurement) &&
    typeof c.batchSize === 'number' &&
    typeof c.totalMs === 'number' &&
    typeof c.measuredAt === 'string'
  );
}

/** Everything remembered; an unreadable or foreign value reads as nothing remembered. */
function readAll(store: KeyValueStore): Record<string, BackendCalibration> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(store.getItem(STORAGE_KEY) ?? '{}');
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const out: Record<string, BackendCalibration> = Object.create(null) as Record<
    string,
    BackendCalibration
  >;
  for (const [key, value] of Object.entries(parsed)) if (isCalibration(value)) out[key] = value;
  return out;
}

function writeAll(store: KeyValueStore, all: Record<string, BackendCalibration>): void {
  try {
    store.setItem(STORAGE_KEY, JSON.stringify(all));
  } catch {
    // Storage full or blocked: the choice is simply measured again next time.
  }
}

export function rememberedChoice(store: KeyValueStore, key: string): BackendCalibration | null {
  const all = readAll(store);
  return Object.prototype.hasOwnProperty.call(all, key) ? all[key] : null;
}

export function rememberChoice(
  store: KeyValueStore,
  key: string,
  calibration: BackendCalibration,
): void {
  const all = readAll(store);
  delete all[key];
  all[key] = calibration;
  const keys = Object.keys(all);
  for (const old of keys.slice(0, Math.max(0, keys.length - MAX_SHAPES))) delete all[old];
  writeAll(store, all);
}

export function forgetChoice(store: KeyValueStore, key: string): void {
  const all = readAll(store);
  if (!Object.prototype.hasOwnProperty.call(all, key)) return;
  delete all[key];
  writeAll(store, all);
}
