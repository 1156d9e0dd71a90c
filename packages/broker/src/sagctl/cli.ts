#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Flags, GLOBAL_FLAGS, missingRequired, parseFlags, UsageError } from './args.js';
import { ApiClient, ApiError, ConnectionError } from './client.js';
import { type CommandSpec, isGroup, type SagctlIo } from './command.js';
import { COMMANDS } from './commands/index.js';
import { resolveConnection } from './connection.js';
import { commandHelp, groupHelp, rootHelp } from './help.js';

export type { SagctlIo } from './command.js';

/** Exit statuses: done, the API (or the network) said no, the command line is wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Runs one sagctl command line and answers its exit status; never exits the process itself. */
export async function main(argv: string[], io: SagctlIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    return report(err, io);
  }
}

interface Resolved {
  path: string;
  spec: CommandSpec;
  rest: string[];
}

async function dispatch(argv: string[], io: SagctlIo): Promise<number> {
  const { words, rest } = commandWords(argv);
  const helpWord = words[0] === 'help';
  if (helpWord) words.shift();
  const wantsHelp = helpWord || rest.includes('--help') || rest.includes('-h');
  if (words.length === 0) {
    if (!wantsHelp) throw new UsageError('give a command', 'sagctl');
    io.stdout(rootHelp(COMMANDS));
    return EXIT_OK;
  }
  const resolved = resolve(words, wantsHelp, io);
  if (resolved === null) return EXIT_OK;
  const { path, spec } = resolved;
  if (helpWord) {
    io.stdout(commandHelp(path, spec));
    return EXIT_OK;
  }
  const { values, positionals } = parseFlags([...resolved.rest, ...rest], spec.flags ?? {}, path);
  if (values.help) {
    io.stdout(commandHelp(path, spec));
    return EXIT_OK;
  }
  const flags = new Flags(values, path);
  checkArguments(spec, positionals, flags);
  const connection = resolveConnection({
    flags: {
      url: flags.optionalText('url'),
      token: flags.optionalText('token'),
      tokenFile: flags.optionalText('token-file'),
      config: flags.optionalText('config'),
    },
    env: io.env,
    homeDir: io.homeDir,
  });
  const api = new ApiClient(connection);
  await spec.run({ path, args: positionals, flags, api, io, json: flags.has('json') });
  return EXIT_OK;
}

/** The command named by the words; null when a group's help was printed instead. */
function resolve(words: string[], wantsHelp: boolean, io: SagctlIo): Resolved | null {
  const [first, second, ...extra] = words;
  const entry = find(COMMANDS, first, 'command', 'sagctl');
  if (!isGroup(entry)) return { path: `sagctl ${entry.name}`, spec: entry, rest: words.slice(1) };
  if (second === undefined) {
    if (!wantsHelp) {
      const names = entry.commands.map((c) => c.name).join(', ');
      throw new UsageError(`give a subcommand: ${names}`, `sagctl ${entry.name}`);
    }
    io.stdout(groupHelp(entry));
    return null;
  }
  const spec = find(entry.commands, second, 'subcommand', `sagctl ${entry.name}`);
  return { path: `sagctl ${entry.name} ${spec.name}`, spec, rest: extra };
}

function find<T extends { name: string }>(entries: T[], word: string, kind: string, helpFor: string): T {
  const found = entries.find((e) => e.name === word);
  if (found) return found;
  const near = nearest(
    entries.map((e) => e.name),
    word,
  );
  throw new UsageError(`unknown ${kind} "${word}"${near ? ` (did you mean ${near}?)` : ''}`, helpFor);
}

/** The name a typo most likely meant: a plural or prefix of it, else at most two letters off. */
function nearest(names: string[], word: string): string | undefined {
  const scored = names.map((name) => ({
    name,
    distance:
      word.length >= 3 && (name.startsWith(word) || word.startsWith(name)) ? 0 : editDistance(name, word),
  }));
  const best = scored.sort((a, b) => a.distance - b.distance)[0];
  return best && best.distance <= 2 ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Splits off the leading command words (`gateway create`), skipping global flags and their values
 * wherever they stand, so `sagctl --json gateway list` and `sagctl gateway list --json` both work.
 */
function commandWords(argv: string[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') break;
    if (token.startsWith('-') && token !== '-') {
      rest.push(token);
      const spec = GLOBAL_FLAGS[token.replace(/^--?/, '')];
      if (spec?.type === 'string' && !token.includes('=') && i + 1 < argv.length) rest.push(argv[++i]);
      continue;
    }
    if (complete(words)) break;
    words.push(token);
  }
  return { words, rest: [...rest, ...argv.slice(i)] };
}

/** A resource group takes a subcommand word; any other command only its own name. */
function complete(words: string[]): boolean {
  const command = words[0] === 'help' ? words.slice(1) : words;
  if (command.length === 0) return false;
  if (command.length >= 2) return true;
  const entry = COMMANDS.find((e) => e.name === command[0]);
  return entry !== undefined && !isGroup(entry);
}

function checkArguments(spec: CommandSpec, positionals: string[], flags: Flags): void {
  const expected = spec.args ?? [];
  if (positionals.length < expected.length) {
    throw flags.usage(`missing ${expected.slice(positionals.length).join(' ')}`);
  }
  if (positionals.length > expected.length) {
    throw flags.usage(`unexpected argument "${positionals[expected.length]}"`);
  }
  const missing = missingRequired(spec.flags ?? {}, flags);
  if (missing.length > 0) {
    throw flags.usage(
      `missing required flag${missing.length > 1 ? 's' : ''} ${missing.map((n) => `--${n}`).join(', ')}`,
    );
  }
}

function report(err: unknown, io: SagctlIo): number {
  if (err instanceof UsageError) {
    const where = err.helpFor && err.helpFor !== 'sagctl' ? `${err.helpFor.replace(/^sagctl /, '')}: ` : '';
    const see = err.helpFor ? ` (see ${err.helpFor} --help)` : '';
    io.stderr(`sagctl: ${where}${err.message}${see}\n`);
    return EXIT_USAGE;
  }
  if (err instanceof ApiError) {
    io.stderr(`sagctl: ${err.code}: ${err.message}\n`);
    if (err.status === 401) {
      io.stderr(
        'sagctl: the token comes from --token, --token-file, SAG_API_TOKEN or the config file; ' +
          'the broker keeps the one it generated in DATA_DIR/api-token\n',
      );
    }
    return EXIT_FAILED;
  }
  if (err instanceof ConnectionError) {
    io.stderr(`sagctl: ${err.message}\n`);
    return EXIT_FAILED;
  }
  io.stderr(`sagctl: unexpected failure: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT_FAILED;
}

/** The real terminal. */
export function processIo(): SagctlIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    homeDir: homedir(),
  };
}

function invokedDirectly(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

/** Runs sagctl on this process's arguments and terminal (the `sagctl` program). */
export async function run(): Promise<void> {
  // `sagctl ... | head` closes the pipe early: that is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_OK);
  });
  process.exitCode = await main(process.argv.slice(2), processIo());
}

if (invokedDirectly()) void run();
