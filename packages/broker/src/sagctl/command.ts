import type { FlagSpecs, Flags } from './args.js';
import type { ApiClient, Page, Query } from './client.js';

/** Where a command writes: tables and JSON to stdout, notes and errors to stderr. */
export interface SagctlIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  homeDir: string;
}

export interface CommandContext {
  /** e.g. `sagctl gateway create`, for messages. */
  path: string;
  /** Positional arguments, as many as the command's `args`. */
  args: string[];
  flags: Flags;
  api: ApiClient;
  io: SagctlIo;
  json: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, by their placeholder, e.g. `GATEWAY_ID`. */
  args?: string[];
  flags?: FlagSpecs;
  /** Extra help text: accepted formats, what the answer means. */
  details?: string;
  examples: string[];
  run(ctx: CommandContext): Promise<void>;
}

/** A resource: `sagctl gateway <subcommand>`. */
export interface GroupSpec {
  name: string;
  summary: string;
  commands: CommandSpec[];
}

export type TopLevel = GroupSpec | CommandSpec;

export function isGroup(entry: TopLevel): entry is GroupSpec {
  return 'commands' in entry;
}

/** The API's answer as JSON with `--json`, otherwise the view made for people. */
export function show<T>(ctx: CommandContext, answer: T, view: (answer: T) => string): void {
  ctx.io.stdout(ctx.json ? `${JSON.stringify(answer, null, 2)}\n` : view(answer));
}

/** For answers without a body (204): a line for people, nothing for scripts. */
export function done(ctx: CommandContext, message: string): void {
  if (!ctx.json) ctx.io.stdout(`${message}\n`);
}

/** Paging flags every list command takes. */
export const LIST_FLAGS: FlagSpecs = {
  limit: { type: 'string', value: 'N', description: 'items per page, 1-500 [50]' },
  cursor: { type: 'string', value: 'CURSOR', description: 'continue after a previous page (its nextCursor)' },
  all: { type: 'boolean', description: 'follow nextCursor and show every page' },
};

/** Lists with the paging flags; tells people (on stderr) when more pages remain. */
export async function listAll<T>(ctx: CommandContext, path: string, filters: Query = {}): Promise<Page<T>> {
  const all = ctx.flags.has('all');
  if (all && ctx.flags.has('cursor')) throw ctx.flags.usage('give --all or --cursor, not both');
  const limit = ctx.flags.optionalInteger('limit') ?? (all ? 500 : undefined);
  const page = await ctx.api.list<T>(
    path,
    { ...filters, limit, cursor: ctx.flags.optionalText('cursor') },
    all,
  );
  if (page.nextCursor && !ctx.json) {
    ctx.io.stderr(`more: ${ctx.path} --cursor ${page.nextCursor}  (or --all)\n`);
  }
  return page;
}

/** `/gateways/{id}` with the id escaped, for any resource path. */
export function pathOf(...parts: string[]): string {
  return parts.map((part, i) => (i % 2 === 0 ? `/${part}` : `/${encodeURIComponent(part)}`)).join('');
}
