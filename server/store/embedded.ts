import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startCheckpointer } from './checkpointer.js';
import { lockDataDirectory } from './directory-lock.js';
import { decodeDocument, encodeDocument } from './document-json.js';
import { importNedbFiles } from './nedb-import.js';
import { DuplicateKeyError, StoreBusyError, type Collection, type CollectionSpec, type Filter, type FindOptions, type Store, type StoredDocument } from './port.js';
import { createCollectionTable, createFieldIndex, quoteName, sqliteErrorCode } from './sqlite-schema.js';
import { expiryOf, orderClause, setExpression, whereClause, type Sql, type SqlValue } from './sqlite-query.js';

export const DATABASE_FILE = 'assent.sqlite';
/** SQLite's page cache for the one connection, in KiB; the rest of the file stays on disk (and in the OS cache). */
const PAGE_CACHE_KIB = 16 * 1024;
/** Past a checkpoint, the write-ahead log file is cut back to this size. */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;
/** SQLite's own checkpoint threshold, in pages, used again should the checkpoint thread fail. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;
const BUSY_TIMEOUT_MS = 1000;
/** Statements are prepared once per distinct SQL text; filters with many shapes cannot grow this without bound. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * The zero-setup store: one SQLite database, `<dataDir>/db/assent.sqlite`, a table per collection
 * holding each document as JSON text beside its `_id` and expiry. Only SQLite's bounded page cache
 * is in memory, so the store's footprint does not grow with its data, and start-up reads nothing
 * but the schema.
 *
 * Durability: write-ahead log with `synchronous = NORMAL`. Every statement is its own transaction
 * and is in the WAL (written, not yet fsynced) when it returns, so an acknowledged write survives
 * the process being killed, SIGKILL included: the kernel holds the written pages. A power loss or
 * kernel crash can take back the last transactions before a checkpoint, never corrupt the file;
 * FULL would fsync on every commit, a disk flush per token issued, for that case alone. The
 * checkpoints, which do fsync, run in a worker thread (checkpointer.ts).
 *
 * better-sqlite3 is synchronous: each operation runs to completion in one turn of the event loop,
 * which is what makes `consume` atomic. Statements are small (index lookups; the sweep deletes in
 * bounded slices) so no turn is long. One process owns a data directory (directory-lock.ts); use
 * MongoDB to scale out.
 */
export async function openEmbeddedStore(dataDir: string): Promise<Store> {
  const dir = path.join(dataDir, 'db');
  mkdirSync(dir, { recursive: true });
  const unlock = lockDataDirectory(dataDir);
  const file = path.join(dir, DATABASE_FILE);
  let db: Database.Database;
  try {
    db = openDatabase(file, dir);
  } catch (err) {
    unlock();
    throw err;
  }
  const checkpointer = startCheckpointer(file, () => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
  });
  const open = new Map<string, SqliteCollection<StoredDocument>>();

  return {
    kind: 'embedded',
    async collection<T extends StoredDocument>(name: string, spec: CollectionSpec = {}) {
      let found = open.get(name);
      if (!found) {
        found = SqliteCollection.open(db, name, spec);
        open.set(name, found);
      }
      return found as unknown as Collection<T>;
    },
    openedCollections() {
      return [...open.values()];
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      open.clear();
      await checkpointer.stop();
      db.close();
      unlock();
    },
  };
}

/** The server's connection, nedb files imported, automatic checkpoints left to the checkpointer. */
function openDatabase(file: string, dir: string): Database.Database {
  // Only the checkpointer shares the file; when it makes the log start over it holds the write
  // lock for the last frames and an fsync, and waiting for that beats failing the request.
  const db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    importNedbFiles(db, dir);
    db.pragma('wal_autocheckpoint = 0');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

class SqliteCollection<T extends StoredDocument> implements Collection<T> {
  private readonly table: string;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Database.Database,
    private readonly name: string,
  ) {
    this.table = quoteName(name);
  }

  static open<T extends StoredDocument>(db: Database.Database, name: string, spec: CollectionSpec) {
    createCollectionTable(db, name);
    for (const field of spec.unique ?? []) createFieldIndex(db, name, field, 'unique');
    for (const field of spec.indexed ?? []) createFieldIndex(db, name, field, 'plain');
    return new SqliteCollection<T>(db, name);
  }

  async insert(doc: T) {
    this.translating(() => this.statement(`INSERT INTO ${this.table} (_id, expiresAt, doc) VALUES (?, ?, ?)`).run(doc._id, expiryOf(doc), encodeDocument(doc)));
  }

  async findOne(filter: Filter) {
    const [statement, params] = this.live(filter, (where) => `SELECT doc FROM ${this.table} WHERE ${where} LIMIT 1`);
    const row = statement.get(...params) as { doc: string } | undefined;
    return row ? decodeDocument<T>(row.doc) : null;
  }

  async find(filter: Filter, options: FindOptions = {}) {
    const limit = options.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.trunc(options.limit))}`;
    const [statement, params] = this.live(filter, (where) => `SELECT doc FROM ${this.table} WHERE ${where}${orderClause(options.sort)}${limit}`);
    const rows = statement.all(...params) as { doc: string }[];
    return rows.map((row) => decodeDocument<T>(row.doc));
  }

  async count(filter: Filter) {
    const [statement, params] = this.live(filter, (where) => `SELECT count(*) AS n FROM ${this.table} WHERE ${where}`);
    return (statement.get(...params) as { n: number }).n;
  }

  async update(filter: Filter, set: Partial<T>) {
    const change = this.change(set);
    const [statement, params] = this.live(filter, (where) => `UPDATE ${this.table} SET ${change.text} WHERE ${where}`, change.params);
    return this.translating(() => statement.run(...params)).changes;
  }

  async consume(filter: Filter, set: Partial<T>) {
    const change = this.change(set);
    const [statement, params] = this.live(
      filter,
      (where) => `UPDATE ${this.table} SET ${change.text} WHERE _id = (SELECT _id FROM ${this.table} WHERE ${where} LIMIT 1) RETURNING doc`,
      change.params,
    );
    const row = this.translating(() => statement.get(...params)) as { doc: string } | undefined;
    return row ? decodeDocument<T>(row.doc) : null;
  }

  async upsert(doc: T) {
    const sql = `INSERT INTO ${this.table} (_id, expiresAt, doc) VALUES (?, ?, ?) ON CONFLICT (_id) DO UPDATE SET expiresAt = excluded.expiresAt, doc = excluded.doc`;
    this.translating(() => this.statement(sql).run(doc._id, expiryOf(doc), encodeDocument(doc)));
  }

  async delete(filter: Filter) {
    const where = whereClause(filter);
    return this.statement(`DELETE FROM ${this.table} WHERE ${where.text}`).run(...where.params).changes;
  }

  async sweepExpired(now: Date, limit: number) {
    const sql = `DELETE FROM ${this.table} WHERE _id IN (SELECT _id FROM ${this.table} WHERE expiresAt <= ? LIMIT ?)`;
    return this.statement(sql).run(now.getTime(), Math.max(0, Math.trunc(limit))).changes;
  }

  /** The SET list for `set`: the document's fields, and the expiry column when it changes. */
  private change(set: Partial<T>): Sql {
    const doc = setExpression(set);
    if (!('expiresAt' in set) || set.expiresAt === undefined) return { text: `doc = ${doc.text}`, params: doc.params };
    return { text: `doc = ${doc.text}, expiresAt = ?`, params: [...doc.params, expiryOf(set)] };
  }

  /** The statement whose WHERE is `filter` on live documents only (see port.ts), and its params after any `leading` ones. */
  private live(filter: Filter, sql: (where: string) => string, leading: SqlValue[] = []): [Database.Statement, SqlValue[]] {
    const where = whereClause(filter);
    const statement = this.statement(sql(`(expiresAt IS NULL OR expiresAt > ?) AND ${where.text}`));
    return [statement, [...leading, Date.now(), ...where.params]];
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value as string);
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private translating<R>(operation: () => R): R {
    try {
      return operation();
    } catch (err) {
      const code = sqliteErrorCode(err);
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateKeyError(this.name, String((err as Error).message));
      // The write lock was held past the busy timeout (a checkpoint starting the log over).
      if (code === 'SQLITE_BUSY') throw new StoreBusyError(`${this.name}: the database was busy`);
      throw err;
    }
  }
}
