import { execFileSync } from 'node:child_process';
import { type CommandRunner, hostRunner, runCommand } from './runner.js';

/**
 * Network namespaces for tests and the namespace lab: make them, wire them with veth pairs, and
 * tear them down together with every process still running inside (wireguard-go, dnsmasq, servers).
 */
export async function createNamespace(name: string, runner: CommandRunner = hostRunner): Promise<void> {
  await runCommand(runner, { cmd: 'ip', args: ['netns', 'add', name] }, `creating namespace ${name}`);
  await runCommand(runner, { cmd: 'ip', args: ['-n', name, 'link', 'set', 'lo', 'up'] }, `namespace ${name}`);
}

/** A veth pair from `a` (interface `aName`) to `b` (interface `bName`), both up. */
export async function connectNamespaces(
  a: { namespace: string; name: string },
  b: { namespace: string; name: string },
  runner: CommandRunner = hostRunner,
): Promise<void> {
  const step = `wiring ${a.namespace}/${a.name} to ${b.namespace}/${b.name}`;
  await runCommand(
    runner,
    {
      cmd: 'ip',
      args: [
        '-n',
        a.namespace,
        'link',
        'add',
        a.name,
        'type',
        'veth',
        'peer',
        'name',
        b.name,
        'netns',
        b.namespace,
      ],
    },
    step,
  );
  await runCommand(runner, { cmd: 'ip', args: ['-n', a.namespace, 'link', 'set', a.name, 'up'] }, step);
  await runCommand(runner, { cmd: 'ip', args: ['-n', b.namespace, 'link', 'set', b.name, 'up'] }, step);
}

/** Kills every process in the namespace, then deletes it; a missing namespace is fine. */
export async function deleteNamespace(name: string, runner: CommandRunner = hostRunner): Promise<void> {
  const pids = await runner('ip', ['netns', 'pids', name]);
  const list = pids.code === 0 ? pids.stdout.split('\n').filter((pid) => /^\d+$/.test(pid.trim())) : [];
  if (list.length > 0) {
    await runner('kill', ['-TERM', ...list]);
    await runner('timeout', [
      '3',
      'sh',
      '-c',
      `for p in ${list.join(' ')}; do while kill -0 $p 2>/dev/null; do sleep 0.05; done; done`,
    ]);
    await runner('kill', ['-KILL', ...list]);
  }
  await runner('ip', ['netns', 'del', name]);
}

/**
 * Whether this machine can run the namespace tests (root and every tool installed), and the note
 * a skipped test carries in its name so a run without root says why.
 */
export function namespaceLab(tools: readonly string[]): { available: boolean; skipNote: string } {
  const installed = (tool: string) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  const available = process.getuid?.() === 0 && tools.every(installed);
  return { available, skipNote: available ? '' : ` (skipped: needs root and ${tools.join(', ')})` };
}
