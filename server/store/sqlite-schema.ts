import type Database from 'better-sqlite3';
import { fieldExpression } from './sqlite-query.js';

/** A collection's name as a quoted SQL identifier. */
export function quoteName(name: string): string {
  if (!/^[\w.:-]+$/.test(name)) throw new Error(`unsupported collection name: ${name}`);
  return `"${name}"`;
}

/** Creates the table of a collection, if it does not exist yet. */
export function createCollectionTable(db: Database.Database, name: string): void {
  const table = quoteName(name);
  // A rowid table (not WITHOUT ROWID): the rowid is the insertion order, which breaks ties in a sort
  // as MongoDB's natural order does.
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (_id TEXT PRIMARY KEY NOT NULL, expiresAt INTEGER, doc TEXT NOT NULL)`);
  // Partial: most documents of most collections never expire, and only the sweep asks for those that do.
  db.exec(`CREATE INDEX IF NOT EXISTS ${quoteName(`${name}:expiresAt`)} ON ${table} (expiresAt) WHERE expiresAt IS NOT NULL`);
}

/**
 * An index on one field of a collection's documents. Partial: a document without the field (most
 * tokens lack most lineage fields) is left out, and SQLite still uses it for any `field = ?`, which
 * implies the field is present. NULLs never collide in a unique index, so documents lacking a
 * unique field do not either.
 */
export function createFieldIndex(db: Database.Database, name: string, field: string, kind: 'unique' | 'plain'): void {
  const expression = fieldExpression(field);
  const index = quoteName(`${name}:${field}`);
  db.exec(`CREATE ${kind === 'unique' ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${index} ON ${quoteName(name)} (${expression}) WHERE ${expression} IS NOT NULL`);
}

/**
 * SQLite's error code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_UNIQUE`, …) of a thrown error, if it has
 * one. Read from the value rather than tested with instanceof: the native binding keeps the error
 * class of the first realm that loaded it (a jest test file, say), which later realms do not share.
 */
export function sqliteErrorCode(err: unknown): string | undefined {
  const code = err !== null && typeof err === 'object' && 'code' in err ? err.code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}
