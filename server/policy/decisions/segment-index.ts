import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import type { EntrypointName } from '../entrypoints.js';

/** Where one record's line is: its segment, byte offset and length (newline included). */
export interface Location {
  seq: number;
  offset: number;
  length: number;
}

export interface IndexEntry extends Location {
  id: string;
  decidedAt: number;
  entrypoint: EntrypointName;
  ownerId: string | undefined;
}

export interface SegmentState {
  seq: number;
  /** Bytes of the segment whose records are in the index. */
  indexedBytes: number;
  /** decidedAt (ms) of the segment's newest record; null while it has none. */
  lastAt: number | null;
}

const SCHEMA_VERSION = 1;
/** What an index that is not one (damaged, or of another version) fails with; anything else (permissions, disk) is not fixed by starting afresh. */
const UNREADABLE = new Set(['SQLITE_NOTADB', 'SQLITE_CORRUPT', 'SQLITE_SCHEMA']);

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS segments (
    seq INTEGER PRIMARY KEY,
    indexed_bytes INTEGER NOT NULL,
    last_at INTEGER
  );
  CREATE TABLE IF NOT EXISTS records (
    seq INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    id TEXT NOT NULL,
    decided_at INTEGER NOT NULL,
    entrypoint TEXT NOT NULL,
    owner_id TEXT,
    PRIMARY KEY (seq, offset)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS records_by_id ON records (id);
  -- Partial: most decisions (tokens, introspection) have no owner and stay out of it.
  CREATE INDEX IF NOT EXISTS records_by_owner ON records (owner_id, entrypoint, decided_at) WHERE owner_id IS NOT NULL;
`;

/**
 * The file log's index, an SQLite file: id → location, owner + entrypoint + time → locations,
 * and per segment how far it is indexed and how new its newest record is (for retention). It is
 * derived data: the segments are the truth, and a missing, damaged or lagging index is rebuilt
 * or caught up from them at open. So it is written without waiting for the disk
 * (WAL, synchronous=NORMAL): a commit lost in a power cut is caught up again.
 */
export class SegmentIndex {
  private readonly insertRecord: Database.Statement<[number, number, number, string, number, string, string | null]>;
  private readonly advance: Database.Statement<[{ bytes: number; newest: number | null; seq: number }]>;
  private readonly addBatch: (seq: number, entries: IndexEntry[], indexedBytes: number) => void;
  private readonly removeFrom: (seq: number, bytes: number, dropSegment: boolean) => number;

  private constructor(private readonly db: Database.Database) {
    this.insertRecord = db.prepare('INSERT OR REPLACE INTO records (seq, offset, length, id, decided_at, entrypoint, owner_id) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.advance = db.prepare('UPDATE segments SET indexed_bytes = @bytes, last_at = max(coalesce(last_at, @newest), coalesce(@newest, last_at)) WHERE seq = @seq');
    this.addBatch = db.transaction((seq: number, entries: IndexEntry[], indexedBytes: number) => {
      let newest: number | null = null;
      for (const e of entries) {
        this.insertRecord.run(e.seq, e.offset, e.length, e.id, e.decidedAt, e.entrypoint, e.ownerId ?? null);
        if (newest === null || e.decidedAt > newest) newest = e.decidedAt;
      }
      this.advance.run({ bytes: indexedBytes, newest, seq });
    });
    this.removeFrom = db.transaction((seq: number, bytes: number, dropSegment: boolean) => {
      const { changes } = db.prepare('DELETE FROM records WHERE seq = ? AND offset >= ?').run(seq, bytes);
      if (dropSegment) db.prepare('DELETE FROM segments WHERE seq = ?').run(seq);
      else db.prepare('UPDATE segments SET indexed_bytes = @bytes, last_at = (SELECT max(decided_at) FROM records WHERE seq = @seq) WHERE seq = @seq').run({ bytes, seq });
      return changes;
    });
  }

  /** Opens the index file, starting afresh when it is not a readable index of this version. */
  static open(file: string): SegmentIndex {
    try {
      return SegmentIndex.openFile(file);
    } catch (err) {
      if (!UNREADABLE.has((err as { code?: unknown }).code as string)) throw err;
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
      return SegmentIndex.openFile(file);
    }
  }

  private static openFile(file: string): SegmentIndex {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const version = db.pragma('user_version', { simple: true });
      if (version !== 0 && version !== SCHEMA_VERSION) throw new Database.SqliteError(`index schema version ${String(version)}`, 'SQLITE_SCHEMA');
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return new SegmentIndex(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  segments(): SegmentState[] {
    return this.db
      .prepare<[], { seq: number; indexed_bytes: number; last_at: number | null }>('SELECT seq, indexed_bytes, last_at FROM segments ORDER BY seq')
      .all()
      .map((row) => ({ seq: row.seq, indexedBytes: row.indexed_bytes, lastAt: row.last_at }));
  }

  addSegment(seq: number): void {
    this.db.prepare('INSERT OR IGNORE INTO segments (seq, indexed_bytes, last_at) VALUES (?, 0, NULL)').run(seq);
  }

  /** Adds the entries found in a segment's next bytes, up to `indexedBytes`, in one transaction. */
  add(seq: number, entries: IndexEntry[], indexedBytes: number): void {
    this.addBatch(seq, entries, indexedBytes);
  }

  byId(id: string): Location | undefined {
    return this.db.prepare<[string], Location>('SELECT seq, offset, length FROM records WHERE id = ?').get(id);
  }

  ofOwner(ownerId: string, entrypoint: EntrypointName, limit: number): Location[] {
    return this.db
      .prepare<[string, string, number], Location>(
        'SELECT seq, offset, length FROM records WHERE owner_id = ? AND entrypoint = ? ORDER BY decided_at DESC, seq DESC, offset DESC LIMIT ?',
      )
      .all(ownerId, entrypoint, limit);
  }

  /** Forgets a segment and its records; returns how many records. */
  dropSegment(seq: number): number {
    return this.removeFrom(seq, 0, true);
  }

  /** Forgets a segment's records from byte `bytes` on (the file was cut there). */
  truncateSegment(seq: number, bytes: number): void {
    this.removeFrom(seq, bytes, false);
  }

  close(): void {
    this.db.close();
  }
}
