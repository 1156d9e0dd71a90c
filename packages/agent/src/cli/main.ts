import { parseArgs } from 'node:util';
import { isAgentError } from '../errors.js';
import { readAgentVersion } from '../session/hello.js';
import {
  PROVISION_OPTIONS,
  provisionCommand,
  SIMULATE_OPTIONS,
  simulateCommand,
} from '../simulate/command.js';
import { PROVISION_HELP, SIMULATE_HELP } from '../simulate/help.js';
import { initCommand, runCommand, statusCommand } from './commands.js';
import { EXIT } from './exit.js';
import { INIT_HELP, MAIN_HELP, RUN_HELP, STATUS_HELP } from './help.js';
import { SettingError } from './settings.js';

/** What the CLI talks to; the real process in cli.ts, plain buffers in tests. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  stopRequested: Promise<string>;
}

type Flags = Record<string, string | boolean | undefined>;
type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const COMMANDS: Record<
  string,
  { options: OptionSpec; help: string; run: (flags: Flags, io: CliIo) => Promise<number> }
> = {
  init: {
    options: { serial: str, 'state-dir': str, force: bool, config: str, help: bool },
    help: INIT_HELP,
    run: initCommand,
  },
  run: {
    options: {
      'state-dir': str,
      broker: str,
      ca: str,
      dataplane: str,
      role: str,
      listen: str,
      keepalive: str,
      'report-interval': str,
      'log-level': str,
      config: str,
      help: bool,
    },
    help: RUN_HELP,
    run: runCommand,
  },
  status: {
    options: { 'state-dir': str, json: bool, config: str, help: bool },
    help: STATUS_HELP,
    run: statusCommand,
  },
  simulate: { options: SIMULATE_OPTIONS, help: SIMULATE_HELP, run: simulateCommand },
  'simulate provision': { options: PROVISION_OPTIONS, help: PROVISION_HELP, run: provisionCommand },
};

/** Runs `sag-agent <argv>` and returns the exit status. Never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...afterFirst] = argv;
  // `simulate provision` is a command of its own under `simulate`.
  const sub = first === 'simulate' && afterFirst[0] === 'provision';
  const name = sub ? 'simulate provision' : first;
  const rest = sub ? afterFirst.slice(1) : afterFirst;
  if (name === undefined) {
    io.stderr(MAIN_HELP);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(MAIN_HELP);
    return EXIT.ok;
  }
  if (name === '--version') {
    io.stdout(`${readAgentVersion()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(
      `sag-agent: unknown command "${name}"; commands: init, run, status, simulate (see sag-agent --help)\n`,
    );
    return EXIT.usage;
  }
  try {
    const flags = parseFlags(name, rest, command.options);
    if (flags.help) {
      io.stdout(command.help);
      return EXIT.ok;
    }
    return await command.run(flags, io);
  } catch (err) {
    return failure(err, io);
  }
}

function parseFlags(command: string, args: string[], options: OptionSpec): Flags {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Flags;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = (err as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new SettingError(`${command}: unknown option ${option} (see sag-agent ${command} --help)`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const value = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new SettingError(`${command}: unexpected argument ${value} (see sag-agent ${command} --help)`);
    }
    throw new SettingError(`${command}: ${message.split('. ')[0]}`);
  }
}

function failure(err: unknown, io: CliIo): number {
  if (err instanceof SettingError) {
    io.stderr(`sag-agent: ${err.message}\n`);
    return EXIT.usage;
  }
  if (isAgentError(err)) {
    io.stderr(`sag-agent: ${err.message}\n`);
    return err.code === 'INVALID_SERIAL' ? EXIT.usage : EXIT.failed;
  }
  io.stderr(`sag-agent: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.failed;
}
