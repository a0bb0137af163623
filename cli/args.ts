/**
 * Command-line flags of the headless runner: `--name value` or `--name=value`, repeatable where
 * a command says so. Unknown flags and missing values are usage errors (exit code 2).
 */

/** Bad input from the user (flags, config, data file): exit code 2 with this message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  name: string;
  /** Shown in --help. */
  value: string | null;
  help: string;
  required?: boolean;
  repeatable?: boolean;
}

export interface ParsedFlags {
  values: Map<string, string[]>;
  get(name: string): string | undefined;
  all(name: string): string[];
  has(name: string): boolean;
}

export function parseFlags(argv: string[], specs: FlagSpec[], command: string): ParsedFlags {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`${command}: unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs.find((s) => s.name === name);
    if (!spec) {
      throw new UsageError(
        `${command}: unknown flag --${name} (see npm run lab -- ${command} --help)`,
      );
    }
    let value: string;
    if (spec.value === null) {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      value = 'true';
    } else if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) {
        throw new UsageError(`${command}: --${name} needs a value (${spec.value})`);
      }
      value = argv[++i];
    }
    const list = values.get(name) ?? [];
    if (list.length > 0 && !spec.repeatable) {
      throw new UsageError(`${command}: --${name} is given twice`);
    }
    list.push(value);
    values.set(name, list);
  }
  for (const spec of specs) {
    if (spec.required && !values.has(spec.name)) {
      throw new UsageError(`${command}: --${spec.name} ${spec.value ?? ''} is required`.trim());
    }
  }
  return {
    values,
    get: (name) => values.get(name)?.[0],
    all: (name) => values.get(name) ?? [],
    has: (name) => values.has(name),
  };
}

/** A whole number flag of at least `min`. */
export function wholeNumber(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${flag} must be a whole number of at least ${min}, got "${text}"`);
  }
  return n;
}

export function helpText(command: string, summary: string, specs: FlagSpec[]): string {
  const width = Math.max(...specs.map((s) => `--${s.name}${s.value ? ` ${s.value}` : ''}`.length));
  const lines = specs.map((s) => {
    const flag = `--${s.name}${s.value ? ` ${s.value}` : ''}`;
    const notes = [s.required ? 'required' : '', s.repeatable ? 'repeatable' : '']
      .filter(Boolean)
      .join(', ');
    return `  ${flag.padEnd(width)}  ${s.help}${notes ? ` (${notes})` : ''}`;
  });
  return `npm run lab -- ${command} [flags]\n\n${summary}\n\n${lines.join('\n')}\n`;
}
