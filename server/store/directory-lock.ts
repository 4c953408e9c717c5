import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StartupError } from '../startup-error.js';

/**
 * The embedded store's files belong to one process at a time: a second process appending to the
 * same files would corrupt them. The lock file names its owner's pid; a lock whose owner is gone
 * (killed, crashed) is taken over.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const file = path.join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx' });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new StartupError(`the data directory ${path.dirname(dir)} is in use by process ${owner}; stop it first (or use MongoDB to run several processes)`);
    }
    await rm(file, { force: true });
  }
  throw new Error(`could not lock the data directory ${path.dirname(dir)}`);
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
