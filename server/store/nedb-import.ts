import { readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { StartupError } from '../startup-error.js';
import { encodeDocument } from './document-json.js';
import { createCollectionTable, quoteName } from './sqlite-schema.js';
import { expiryOf } from './sqlite-query.js';

const NEDB_SUFFIX = '.db';

/**
 * Moves a data directory written by the earlier embedded engine (nedb: one `<collection>.db` file
 * per collection) into the SQLite database, once: when such files are present and the database
 * has no collection yet. Everything is imported in one transaction, and only then are the files
 * renamed aside (`.db.imported`), so a crash part-way leaves the old files to import again.
 */
export function importNedbFiles(db: Database.Database, dir: string): void {
  const files = readdirSync(dir).filter((file) => file.endsWith(NEDB_SUFFIX));
  if (files.length === 0 || hasCollections(db)) return;
  db.transaction(() => {
    for (const file of files) {
      const name = file.slice(0, -NEDB_SUFFIX.length);
      createCollectionTable(db, name);
      const insert = db.prepare(`INSERT INTO ${quoteName(name)} (_id, expiresAt, doc) VALUES (?, ?, ?)`);
      for (const doc of readNedbFile(path.join(dir, file))) insert.run(doc._id, expiryOf(doc), encodeDocument(doc));
    }
  })();
  for (const file of files) renameSync(path.join(dir, file), path.join(dir, `${file}.imported`));
}

function hasCollections(db: Database.Database) {
  return db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' LIMIT 1`).get() !== undefined;
}

interface NedbDocument {
  _id: string;
  expiresAt?: unknown;
}

/**
 * The live documents of one nedb file. Each line is a document (dates as `{"$$date": ms}`), a
 * deletion (`{"$$deleted": true, "_id": …}`) or an index definition; a later line for an `_id`
 * replaces an earlier one. A last line without its newline is a write cut short by a crash, which
 * was never acknowledged.
 */
function readNedbFile(file: string): Iterable<NedbDocument> {
  const docs = new Map<string, NedbDocument>();
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop(); // what follows the last newline: nothing, or a torn write
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let entry: Record<string, unknown>;
    try {
      entry = withDates(JSON.parse(line)) as Record<string, unknown>;
    } catch {
      throw new StartupError(`line ${index + 1} of ${file} is not JSON, so the nedb data cannot be imported; repair or remove that line and start again`);
    }
    if ('$$indexCreated' in entry || '$$indexRemoved' in entry || typeof entry._id !== 'string') return;
    if (entry.$$deleted === true) docs.delete(entry._id);
    else docs.set(entry._id, entry as unknown as NedbDocument);
  });
  return docs.values();
}

function withDates(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withDates);
  const record = value as Record<string, unknown>;
  if (typeof record.$$date === 'number' && Object.keys(record).length === 1) return new Date(record.$$date);
  const converted: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(record)) converted[key] = withDates(field);
  return converted;
}
