/**
 * Typed option tables: one declaration per setting (default, bounds, label, one-line help, URL
 * parameter) that drives the form, the URL, the worker's validation and the headless runner's
 * config check. The training settings, the synthetic slice's settings and every compression
 * method's options are declared this way; the config types are derived from the tables.
 *
 * tfjs-free and DOM-free: the main thread imports it at runtime.
 */

interface OptionBase {
  label: string;
  /** One line shown under the input: what the setting does, and the valid range. */
  help: string;
  /** Short URL query parameter (unique within its table). */
  param: string;
  /**
   * Whether the setting may be changed while a run trains (the change takes effect at the next
   * step and is marked on the charts).
   */
  live?: boolean;
}

export interface NumberOption extends OptionBase {
  kind: 'number';
  default: number;
  min: number;
  max: number;
  integer: boolean;
  /** Whether `min` itself is allowed (a learning rate must be strictly positive). Default true. */
  minInclusive?: boolean;
}

export interface ChoiceOption<V extends string = string> extends OptionBase {
  kind: 'choice';
  default: V;
  choices: readonly { value: V; label: string }[];
}

export interface FlagOption extends OptionBase {
  kind: 'flag';
  default: boolean;
}

/** A list of numbers, typed as "400-400-400" or "0.5, 0.8, 0.9". */
export interface NumberListOption extends OptionBase {
  kind: 'numbers';
  default: readonly number[];
  min: number;
  max: number;
  integer: boolean;
  minLength: number;
  maxLength: number;
  /** How the list is written back into the form and the URL. */
  separator: '-' | ',';
}

export type OptionSpec = NumberOption | ChoiceOption | FlagOption | NumberListOption;
export type OptionValue = number | string | boolean | number[];
export type OptionTable = Record<string, OptionSpec>;

/** The value type of each option of a table. */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends NumberOption
    ? number
    : T[K] extends ChoiceOption<infer V>
      ? V
      : T[K] extends FlagOption
        ? boolean
        : T[K] extends NumberListOption
          ? number[]
          : never;
};

export function numberOption(spec: Omit<NumberOption, 'kind'>): NumberOption {
  return { kind: 'number', ...spec };
}

export function choiceOption<const V extends string>(
  spec: Omit<ChoiceOption<V>, 'kind'>,
): ChoiceOption<V> {
  return { kind: 'choice', ...spec };
}

export function flagOption(spec: Omit<FlagOption, 'kind'>): FlagOption {
  return { kind: 'flag', ...spec };
}

export function numberListOption(spec: Omit<NumberListOption, 'kind'>): NumberListOption {
  return { kind: 'numbers', ...spec };
}

export function defaultsOf<T extends OptionTable>(table: T): OptionValues<T> {
  const out: Record<string, OptionValue> = {};
  for (const [key, spec] of Object.entries(table)) {
    out[key] = spec.kind === 'numbers' ? [...spec.default] : spec.default;
  }
  return out as OptionValues<T>;
}

/** The valid range of an option in words, e.g. "1 to 256, whole number". */
export function rangeText(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'number': {
      const low = spec.minInclusive === false ? `above ${spec.min}` : `${spec.min}`;
      return `${low} to ${spec.max}${spec.integer ? ', whole number' : ''}`;
    }
    case 'numbers':
      return `${spec.minLength === spec.maxLength ? spec.minLength : `${spec.minLength} to ${spec.maxLength}`} values, each ${spec.min} to ${spec.max}`;
    case 'choice':
      return spec.choices.map((c) => c.value).join(' | ');
    case 'flag':
      return 'on or off';
  }
}

function checkScalar(
  value: number,
  spec: Pick<NumberOption, 'label' | 'min' | 'max' | 'integer' | 'minInclusive'>,
): string | null {
  if (typeof value !== 'number' || Number.isNaN(value)) return `${spec.label} must be a number`;
  if (!Number.isFinite(value)) return `${spec.label} must be finite`;
  if (spec.integer && !Number.isInteger(value)) return `${spec.label} must be a whole number`;
  const inclusive = spec.minInclusive !== false;
  if (inclusive ? value < spec.min : value <= spec.min) {
    return `${spec.label} must be ${inclusive ? 'at least' : 'greater than'} ${spec.min}`;
  }
  if (value > spec.max) return `${spec.label} must be at most ${spec.max}`;
  return null;
}

/** A message saying what is wrong with `value` for `spec`, or null when it is acceptable. */
export function checkOption(value: unknown, spec: OptionSpec): string | null {
  switch (spec.kind) {
    case 'number':
      return checkScalar(value as number, spec);
    case 'flag':
      return typeof value === 'boolean' ? null : `${spec.label} must be true or false`;
    case 'choice':
      return spec.choices.some((c) => c.value === value)
        ? null
        : `${spec.label}: unknown choice "${String(value)}" (one of ${rangeText(spec)})`;
    case 'numbers': {
      if (!Array.isArray(value)) return `${spec.label} must be a list of numbers`;
      if (value.length < spec.minLength) {
        return spec.minLength === 1
          ? `${spec.label} needs at least one value`
          : `${spec.label} needs at least ${spec.minLength} values`;
      }
      if (value.length > spec.maxLength) return `${spec.label}: at most ${spec.maxLength} values`;
      for (const v of value) {
        const msg = checkScalar(v as number, { ...spec, label: `each value of ${spec.label}` });
        if (msg) return msg;
      }
      return null;
    }
  }
}

/**
 * Checks `values` against `table`: unknown keys and missing keys are errors too (a config file
 * or another thread is not trusted). Error keys are `${prefix}${key}`.
 */
export function validateOptions(
  table: OptionTable,
  values: unknown,
  prefix: string,
  what: string,
): Record<string, string> {
  const errors: Record<string, string> = {};
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    errors[prefix.replace(/\.$/, '')] = `${what} must be an object of settings`;
    return errors;
  }
  const record = values as Record<string, unknown>;
  for (const [key, spec] of Object.entries(table)) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) {
      errors[`${prefix}${key}`] = `${spec.label} is missing (${what}.${key})`;
      continue;
    }
    const msg = checkOption(record[key], spec);
    if (msg) errors[`${prefix}${key}`] = msg;
  }
  for (const key of Object.keys(record)) {
    if (!Object.prototype.hasOwnProperty.call(table, key)) {
      errors[`${prefix}${key}`] = `unknown setting "${key}" in ${what}`;
    }
  }
  return errors;
}

/** Strict number parse: '' and junk give NaN (Number('') would give 0). */
export function parseNumberText(text: string): number {
  const t = text.trim();
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return Number.NaN;
  return Number(t);
}

/** Parses "400-400-400", "0.5, 0.8" or "400 400"; junk entries become NaN so validation names them. */
export function parseNumberListText(text: string): number[] {
  // A dash between two digits separates ("400-400"); the one of "1e-3" or "-5" does not.
  return text
    .split(/[,;\s]+/)
    .flatMap((token) => token.split(/(?<=\d)-(?=\d)/))
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseNumberText);
}

/** The text of a value as the form and the URL show it. */
export function optionText(spec: OptionSpec, value: OptionValue): string {
  if (spec.kind === 'numbers') {
    return (value as number[]).join(spec.separator === '-' ? '-' : ',');
  }
  return String(value);
}

/** The value typed as `text` (not validated: check it with checkOption). */
export function optionFromText(spec: OptionSpec, text: string): OptionValue {
  switch (spec.kind) {
    case 'number':
      return parseNumberText(text);
    case 'numbers':
      return parseNumberListText(text);
    case 'flag':
      return text === 'true';
    case 'choice':
      return text;
  }
}
