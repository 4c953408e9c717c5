import type Database from 'better-sqlite3';
import { StartupError } from '../startup-error.js';
import { sqliteErrorCode } from './sqlite-schema.js';

/**
 * Makes the embedded database's connection the owner of the whole data directory (the store's
 * file and everything else kept beside it) for as long as the process lives.
 *
 * In exclusive locking mode SQLite keeps the POSIX lock it takes on the database file for the
 * first write until the connection closes, and, in WAL mode, uses no shared memory, so no other
 * process can read or write the file meanwhile. The lock belongs to the kernel: when the owner
 * dies, however it dies, the kernel drops it as the process exits, before it is even reaped, so a
 * crashed owner never blocks a restart and no pid is ever guessed at. A live owner always blocks.
 */
export function claimDataDirectory(db: Database.Database, dataDir: string): void {
  // The caller closes the connection if this throws.
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // The first write takes the lock; recording the layout version is that write.
    db.pragma(`user_version = ${LAYOUT_VERSION}`);
  } catch (err) {
    if (sqliteErrorCode(err) === 'SQLITE_BUSY') {
      throw new StartupError(`the data directory ${dataDir} is in use by another Assent process; stop it first (or use MongoDB to run several processes)`);
    }
    throw err;
  }
}

/** The embedded store's file layout (a table per collection, see embedded.ts). */
const LAYOUT_VERSION = 1;
