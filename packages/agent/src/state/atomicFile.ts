import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Suffix of the temporary files written before a rename; readers ignore them. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Replaces `path` with `data` so that after a crash the file holds either the old or the new
 * content, never a mix: write a temp file, fsync it, rename it over, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  try {
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Makes a rename in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Deletes the temp files a crash left behind while replacing `path` (a kill between create and
 * rename); call it at start, before anything writes `path`, so crashes do not fill the disk.
 * Returns the names removed.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const prefix = `.${basename(path)}.`;
  const stale = /^[0-9a-f]{12}$/;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return [];
  }
  const removed = names.filter(
    (name) =>
      name.startsWith(prefix) &&
      name.endsWith(TEMP_SUFFIX) &&
      stale.test(name.slice(prefix.length, -TEMP_SUFFIX.length)),
  );
  await Promise.all(removed.map((name) => rm(join(dirname(path), name), { force: true })));
  return removed;
}
