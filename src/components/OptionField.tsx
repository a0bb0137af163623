import { rangeText, type OptionSpec } from '../../workers/options';

/** One line under a field: what it does and its valid range. */
export function optionHelp(option: OptionSpec): string {
  return `${option.help} (${rangeText(option)})`;
}

export interface OptionFieldProps {
  /** Form key: the input is `field-<id>`, its error `error-<id>`. */
  id: string;
  option: OptionSpec;
  value: string;
  /** Greyed out (a run holds the setting). */
  locked: boolean;
  error: string | undefined;
  onChange(value: string): void;
}

function OptionInput({ id, option, value, locked, onChange }: Omit<OptionFieldProps, 'error'>) {
  const inputId = `field-${id}`;
  if (option.kind === 'flag') {
    return (
      <input
        id={inputId}
        type="checkbox"
        checked={value === 'true'}
        disabled={locked}
        onChange={(e) => onChange(String(e.target.checked))}
        data-testid={inputId}
      />
    );
  }
  if (option.kind === 'choice') {
    return (
      <select
        id={inputId}
        value={value}
        disabled={locked}
        onChange={(e) => onChange(e.target.value)}
        data-testid={inputId}
      >
        {option.choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
    );
  }
  return (
    <input
      id={inputId}
      type="text"
      inputMode={option.kind === 'number' ? 'decimal' : 'text'}
      value={value}
      disabled={locked}
      onChange={(e) => onChange(e.target.value)}
      data-testid={inputId}
      aria-describedby={`help-${id}`}
    />
  );
}

/**
 * A setting of an option table (workers/options.ts) as the forms show it: label (with a "live"
 * badge when it can change while a run trains), the input, one line of help with the valid
 * range, and the error of what was typed.
 */
export function OptionField(props: OptionFieldProps) {
  const { id, option, error } = props;
  const help = optionHelp(option);
  return (
    <div className="field">
      <label htmlFor={`field-${id}`} title={help}>
        {option.label}
        {option.live && (
          <span className="live-badge" title="Can be changed while the run trains">
            live
          </span>
        )}
      </label>
      <OptionInput {...props} />
      <div className="field-help" id={`help-${id}`}>
        {help}
      </div>
      {error && (
        <div className="field-error" data-testid={`error-${id}`}>
          {error}
        </div>
      )}
    </div>
  );
}
