import { readdirSync, readFileSync } from 'node:fs';

/** A process of this machine as /proc shows it (Linux only). */
export interface HostProcess {
  pid: number;
  ppid: number;
  /** One-letter state: R, S, D, Z (zombie), T (stopped)... */
  state: string;
  /** The command line, arguments joined by spaces; empty for a zombie. */
  cmdline: string;
}

/** Null when the process is gone (or went while it was being read). */
export function hostProcess(pid: number): HostProcess | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return { pid, ppid: Number(ppid), state, cmdline };
  } catch {
    return null;
  }
}

export function hostProcesses(): HostProcess[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => hostProcess(Number(name)))
    .filter((found): found is HostProcess => found !== null);
}

/** Living (not zombie) processes whose command line contains `text`. */
export function processesMentioning(text: string): HostProcess[] {
  return hostProcesses().filter((p) => p.state !== 'Z' && p.cmdline.includes(text));
}
