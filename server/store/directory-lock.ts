import path from 'node:path';
import Database from 'better-sqlite3';
import { StartupError } from '../startup-error.js';
import { sqliteErrorCode } from './sqlite-schema.js';

/** A file that is an (empty) SQLite database only so that SQLite can lock it. */
export const LOCK_FILE = 'assent.lock';

/**
 * Makes this process the owner of the whole data directory (the embedded store's database and
 * everything else kept in it) until the returned release is called or the process ends. The
 * directory must exist.
 *
 * The lock is SQLite's POSIX lock on `<dataDir>/assent.lock`, held by a connection in exclusive
 * locking mode from its first write until it closes; SQLite also refuses a second connection of
 * the same process. It belongs to the kernel: when the owner dies, however it dies, the kernel
 * drops it as the process exits, before it is even reaped, so a crashed owner never blocks a
 * restart and no pid is ever guessed at. A live owner always blocks.
 */
export function lockDataDirectory(dataDir: string): () => void {
  const lock = new Database(path.join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma('journal_mode = OFF'); // nothing in it to roll back, so no journal file beside it
    lock.pragma('user_version = 1'); // the first write takes the lock
  } catch (err) {
    lock.close();
    if (sqliteErrorCode(err) === 'SQLITE_BUSY') {
      throw new StartupError(`the data directory ${dataDir} is in use by another Assent process; stop it first (or use MongoDB to run several processes)`);
    }
    throw err;
  }
  return () => lock.close();
}
