import { readFileSync } from 'node:fs';

/** The open-files limit of this process, as `ulimit -n` (soft) and `ulimit -Hn` (hard) show it. */
export interface OpenFilesLimit {
  soft: number;
  hard: number;
}

/** Descriptors the process needs besides one per connection: stdio, the event loop, files, the API. */
export const FD_HEADROOM = 100;

/** Reads the "Max open files" line of /proc/self/limits; null when there is none (not Linux). */
export function parseOpenFilesLimit(limitsText: string): OpenFilesLimit | null {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (!match) return null;
  const value = (text: string) => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
  const soft = value(match[1]);
  const hard = value(match[2]);
  return Number.isNaN(soft) || Number.isNaN(hard) ? null : { soft, hard };
}

export function readOpenFilesLimit(path = '/proc/self/limits'): OpenFilesLimit | null {
  try {
    return parseOpenFilesLimit(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Why `connections` sockets would not fit under the soft limit, in one line naming the limit and
 * the fix, or null when they fit (or the limit is unknown). Node cannot raise the limit itself.
 */
export function openFilesProblem(connections: number, limit: OpenFilesLimit | null): string | null {
  if (!limit) return null;
  const needed = connections + FD_HEADROOM;
  if (needed <= limit.soft) return null;
  const target = Math.max(65536, needed);
  const fix =
    target <= limit.hard
      ? `run \`ulimit -n ${target}\` in this shell first`
      : `raise the hard limit (${limit.hard}) to at least ${needed} (LimitNOFILE= in systemd, nofile in /etc/security/limits.conf), then run \`ulimit -n ${target}\``;
  return `${connections} connections need about ${needed} open files but the open-files limit (ulimit -n) is ${limit.soft}; ${fix}`;
}
