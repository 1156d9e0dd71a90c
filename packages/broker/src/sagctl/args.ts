import { parseArgs } from 'node:util';

/** Bad usage: unknown command or flag, missing or malformed value. Exit status 2. */
export class UsageError extends Error {
  /** The command whose `--help` explains the right usage, e.g. `sagctl gateway create`. */
  readonly helpFor: string | null;
  constructor(message: string, helpFor: string | null = null) {
    super(message);
    this.name = 'UsageError';
    this.helpFor = helpFor;
  }
}

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Repeatable: `--cidr A --cidr B`. */
  multiple?: boolean;
  short?: string;
  /** Placeholder shown in help, e.g. `NAME`. */
  value?: string;
  required?: boolean;
  description: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
type FlagValue = string | boolean | string[] | boolean[] | undefined;

/** Flags every command takes. */
export const GLOBAL_FLAGS: FlagSpecs = {
  url: { type: 'string', value: 'URL', description: 'broker HTTP address (SAG_URL) [http://127.0.0.1:8080]' },
  token: { type: 'string', value: 'TOKEN', description: 'API bearer token (SAG_API_TOKEN)' },
  'token-file': {
    type: 'string',
    value: 'PATH',
    description: 'read the token from a file, e.g. DATA_DIR/api-token',
  },
  config: { type: 'string', value: 'FILE', description: 'JSON config file {url, token} (SAG_CONFIG)' },
  json: { type: 'boolean', description: "print the API's JSON answer unchanged, for scripts" },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

/**
 * Parses `argv` against the global and the command's flags. Values that start with a dash and a
 * digit (`--ports -1/-1`) are taken as values, which parseArgs alone would refuse as ambiguous.
 */
export function parseFlags(
  argv: string[],
  specs: FlagSpecs,
  helpFor: string,
): { values: Record<string, FlagValue>; positionals: string[] } {
  const all = { ...GLOBAL_FLAGS, ...specs };
  const options = Object.fromEntries(
    Object.entries(all).map(([name, spec]) => [
      name,
      { type: spec.type, multiple: spec.multiple ?? false, ...(spec.short ? { short: spec.short } : {}) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: joinDashValues(argv, all),
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Record<string, FlagValue>, positionals };
  } catch (err) {
    throw new UsageError(parseProblem(err as Error & { code?: string }), helpFor);
  }
}

function joinDashValues(argv: string[], specs: FlagSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    const next = argv[i + 1];
    if (specs[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

/** parseArgs' messages rewritten as one short sentence naming the flag. */
function parseProblem(err: Error & { code?: string }): string {
  const flag = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${flag}`;
  if (/does not take an argument/.test(err.message)) return `flag ${flag} takes no value`;
  if (/argument missing/.test(err.message)) return `flag ${flag} needs a value`;
  if (/ambiguous/.test(err.message))
    return `flag ${flag} needs a value; write ${flag}=VALUE for one starting with "-"`;
  return err.message;
}

/** The parsed flags of one command, read with the checks a person needs to fix a mistake. */
export class Flags {
  constructor(
    private readonly values: Record<string, FlagValue>,
    private readonly helpFor: string,
  ) {}

  has(name: string): boolean {
    const value = this.values[name];
    return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
  }

  text(name: string): string {
    const value = this.optionalText(name);
    if (value === undefined) throw this.usage(`missing required flag --${name}`);
    return value;
  }

  optionalText(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  list(name: string): string[] {
    const value = this.values[name];
    if (Array.isArray(value)) return value.map(String);
    return typeof value === 'string' ? [value] : [];
  }

  integer(name: string): number {
    const value = this.optionalInteger(name);
    if (value === undefined) throw this.usage(`missing required flag --${name}`);
    return value;
  }

  optionalInteger(name: string): number | undefined {
    const text = this.optionalText(name);
    if (text === undefined) return undefined;
    if (!/^-?\d{1,15}$/.test(text)) throw this.usage(`--${name} "${text}" is not a whole number`);
    return Number(text);
  }

  /** Exactly one of the named flags, e.g. `--vpc` or `--ccn`; `value` is empty for a boolean flag. */
  oneOf<const N extends string>(names: readonly N[]): { name: N; value: string } {
    const given = names.filter((name) => this.has(name));
    const choices = names.map((n) => `--${n}`).join(' or ');
    if (given.length === 0) throw this.usage(`give ${choices}`);
    if (given.length > 1) throw this.usage(`give ${choices}, not both`);
    return { name: given[0], value: this.optionalText(given[0]) ?? '' };
  }

  usage(message: string): UsageError {
    return new UsageError(message, this.helpFor);
  }
}

/** Flags declared `required` that are absent, in declaration order. */
export function missingRequired(specs: FlagSpecs, flags: Flags): string[] {
  return Object.entries(specs)
    .filter(([name, spec]) => spec.required && !flags.has(name))
    .map(([name]) => name);
}
