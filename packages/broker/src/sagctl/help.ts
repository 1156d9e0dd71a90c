import { type FlagSpec, type FlagSpecs, GLOBAL_FLAGS } from './args.js';
import { type CommandSpec, type GroupSpec, isGroup, type TopLevel } from './command.js';
import { DEFAULT_URL } from './connection.js';

/** The `--help` texts, made from the command specs so they never drift from what is parsed. */

function flagLabel(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '';
  return `${short}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
}

function flagLines(specs: FlagSpecs): string {
  const entries = Object.entries(specs);
  const width = Math.max(...entries.map(([name, spec]) => flagLabel(name, spec).length));
  return entries
    .map(([name, spec]) => {
      const notes = [spec.required ? 'required' : '', spec.multiple ? 'repeatable' : ''].filter(Boolean);
      const prefix = notes.length > 0 ? `(${notes.join(', ')}) ` : '';
      return `  ${flagLabel(name, spec).padEnd(width)}  ${prefix}${spec.description}\n`;
    })
    .join('');
}

function nameLines(entries: { name: string; summary: string }[]): string {
  const width = Math.max(...entries.map((e) => e.name.length));
  return entries.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}\n`).join('');
}

function usageLine(path: string, spec: CommandSpec): string {
  const specs = Object.entries(spec.flags ?? {});
  const required = specs
    .filter(([, f]) => f.required)
    .map(([name, f]) => `${flagLabel(name, f)}${f.multiple ? ' ...' : ''}`);
  const optional = specs.some(([, f]) => !f.required) ? ['[flags]'] : [];
  return [path, ...(spec.args ?? []), ...required, ...optional].join(' ');
}

const GLOBAL_NOTE =
  'Global flags: --url, --token, --token-file, --config, --json, -h/--help (see sagctl --help)\n';

export function commandHelp(path: string, spec: CommandSpec): string {
  const flags = spec.flags && Object.keys(spec.flags).length > 0 ? `\nFlags:\n${flagLines(spec.flags)}` : '';
  const details = spec.details ? `\n${spec.details}\n` : '';
  const examples = spec.examples.map((e) => `  ${e}\n`).join('');
  return (
    `${path} — ${spec.summary}\n\nUsage: ${usageLine(path, spec)}\n${flags}${details}\n` +
    `${GLOBAL_NOTE}\nExample${spec.examples.length > 1 ? 's' : ''}:\n${examples}`
  );
}

export function groupHelp(group: GroupSpec): string {
  const example = group.commands[0].examples[0];
  return (
    `sagctl ${group.name} — ${group.summary}\n\nUsage: sagctl ${group.name} <subcommand> [args] [flags]\n\n` +
    `Subcommands:\n${nameLines(group.commands)}\n` +
    `Run sagctl ${group.name} <subcommand> --help for its flags.\n\n${GLOBAL_NOTE}\nExample:\n  ${example}\n`
  );
}

export function rootHelp(commands: TopLevel[]): string {
  const examples = commands
    .filter(isGroup)
    .slice(0, 1)
    .flatMap((g) => g.commands.slice(0, 2).map((c) => c.examples[0]));
  return `sagctl — the OpenSAG operator command line: the broker's HTTP API from a terminal

Usage: sagctl <command> [subcommand] [args] [flags]

Commands:
${nameLines(commands)}
Run sagctl <command> --help (or sagctl help <command> [subcommand]) for details.

Global flags:
${flagLines(GLOBAL_FLAGS)}
Connection settings come from flags, then the environment (SAG_URL, SAG_API_TOKEN, SAG_CONFIG),
then the config file (--config, SAG_CONFIG, or ~/.config/opensag/sagctl.json):
  {"url": "${DEFAULT_URL}", "token": "...", "tokenFile": "/var/lib/opensag/api-token"}
A broker with TLS has an https:// URL; if a private CA signed its certificate, name that CA
for Node: NODE_EXTRA_CA_CERTS=/etc/opensag/ca.pem sagctl ...

Output: aligned tables for people on stdout; --json prints the API's answer unchanged.
Exit status: 0 done; 1 the API refused (its code and message on stderr) or the broker is
unreachable; 2 bad usage (unknown command or flag, missing or malformed value).

Examples:
${examples.map((e) => `  ${e}\n`).join('')}  sagctl access-test --from-gateway sag-8f2a1c --from-ip 172.16.0.10 --to-instance i-5d6e7f --protocol tcp --port 22
  sagctl --json gateway status sag-8f2a1c
`;
}
