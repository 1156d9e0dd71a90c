import { readFile } from 'node:fs/promises';

/**
 * The pid written in `pidFile` and the command line of that process, or null for either when the
 * file or the process is gone. The data plane's daemons (dnsmasq, udhcpc) are found this way;
 * callers check the command line, since a pid may have been reused by someone else's process.
 */
export async function processOfPidFile(pidFile: string): Promise<{ pid: number; argv: string[] | null }> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return { pid: 0, argv: null };
  try {
    const text = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return { pid, argv: text.split('\0').filter((arg) => arg !== '') };
  } catch {
    return { pid, argv: null };
  }
}
