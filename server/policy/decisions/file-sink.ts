import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { DecisionRecord } from '../engine.js';
import type { EntrypointName } from '../entrypoints.js';
import { lineOf, recordOfLine } from './record-line.js';
import { SegmentIndex, type IndexEntry, type Location } from './segment-index.js';
import { listSegments, readAt, scanLines, segmentFile, segmentPath, syncDirectory } from './segments.js';
import { ownerOf, retentionCutoff, type DecisionSink } from './sink.js';

export interface FileSinkOptions {
  /** `<dataDir>/decisions`: the segments, `index.sqlite` and `archive/`. */
  dir: string;
  /** A segment is closed and the next begun before it would grow past this. */
  segmentBytes: number;
  retentionDays: number;
}

interface Pending {
  line: Buffer;
  record: DecisionRecord;
  resolve(): void;
  reject(err: unknown): void;
}

/** The longest acknowledged records wait for an fdatasync (what a power cut can lose). */
const SYNC_INTERVAL_MS = 1000;

/** Index rows added per transaction while catching up at open. */
const CATCH_UP_BATCH = 5000;

/**
 * The embedded store's decision log: append-only NDJSON segments under `dir`, rotated by size,
 * and an SQLite index (segment-index.ts) for what is looked up (id, owner). Nothing of the log is
 * held in memory, and opening reads no segment unless the index is missing or behind.
 *
 * Writes are group-committed: everything appended while a write is in flight goes out in the
 * next write, and a record's `append` resolves once that write is in the kernel, so an
 * acknowledged decision survives the process being killed. The disk itself is synced at most
 * SYNC_INTERVAL_MS later (and at rotation and close): the durability class of the embedded
 * store's own writes (WAL, synchronous=NORMAL), whose token records these decisions sit beside,
 * so a request never waits on an fsync. Writes (and retention) run one at a time, so the
 * segment grows strictly in order and a crash can only leave a torn tail after the last
 * acknowledged record, which open() cuts off. After a failed write nothing more is accepted.
 */
export class FileSink implements DecisionSink {
  private pending: Pending[] = [];
  private flushQueued = false;
  /** The last queued write or retention run; the next one starts after it. */
  private tail: Promise<unknown> = Promise.resolve();
  private failure: unknown;
  /** Set while written bytes wait for the periodic fdatasync. */
  private syncTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly options: FileSinkOptions,
    private readonly index: SegmentIndex,
    private handle: FileHandle,
    private seq: number,
    private size: number,
  ) {}

  static async open(options: FileSinkOptions): Promise<FileSink> {
    const { dir } = options;
    await mkdir(path.join(dir, 'archive'), { recursive: true });
    const index = SegmentIndex.open(path.join(dir, 'index.sqlite'));
    try {
      const onDisk = await listSegments(dir);
      // Segments archived and deleted by a retention run the index did not hear the end of.
      for (const { seq } of index.segments()) if (!onDisk.includes(seq)) index.dropSegment(seq);
      for (const seq of onDisk) await catchUp(index, dir, seq, seq === onDisk.at(-1));
      const seq = onDisk.at(-1) ?? 1;
      index.addSegment(seq);
      const handle = await open(segmentPath(dir, seq), 'a');
      const { size } = await handle.stat();
      if (onDisk.length === 0) await syncDirectory(dir);
      return new FileSink(options, index, handle, seq, size);
    } catch (err) {
      index.close();
      throw err;
    }
  }

  append(record: DecisionRecord): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the decision log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line: Buffer.from(lineOf(record), 'utf8'), record, resolve, reject });
      if (this.flushQueued) return;
      this.flushQueued = true;
      void this.serially(() => this.flush());
    });
  }

  async find(id: string): Promise<DecisionRecord | null> {
    const location = this.index.byId(id);
    if (!location) return null;
    const [record] = await this.read([location]);
    return record ?? null;
  }

  ofOwner(ownerId: string, entrypoint: EntrypointName, limit: number): Promise<DecisionRecord[]> {
    return this.read(this.index.ofOwner(ownerId, entrypoint, limit));
  }

  /**
   * Archives every segment whose newest record is past the retention to
   * `archive/<segment>.ndjson.gz`, then forgets and deletes it; returns how many records went.
   * A crash part-way leaves the segment in place (and re-indexed at the next open), to be
   * archived again by the next run.
   */
  applyRetention(now: Date): Promise<number> {
    const cutoff = retentionCutoff(now, this.options.retentionDays).getTime();
    return this.serially(async () => {
      let removed = 0;
      for (const { seq, lastAt } of this.index.segments()) {
        if (lastAt === null || lastAt >= cutoff) continue;
        if (seq === this.seq) await this.rotate();
        await this.archive(seq);
        removed += this.index.dropSegment(seq);
        await rm(segmentPath(this.options.dir, seq));
      }
      if (removed > 0) await syncDirectory(this.options.dir);
      return removed;
    });
  }

  writable(): boolean {
    return this.failure === undefined && this.closing === undefined;
  }

  /** Waits for the writes in flight, syncs and closes; closing again waits for the first close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.tail;
      clearTimeout(this.syncTimer);
      try {
        await this.handle.datasync();
      } finally {
        await this.handle.close();
        this.index.close();
      }
    })();
    return this.closing;
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.catch(() => {});
    return run;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.flushQueued = false;
    try {
      if (this.failure !== undefined) throw this.failure;
      let group: Pending[] = [];
      let groupBytes = 0;
      for (const item of batch) {
        const size = this.size + groupBytes;
        if (size > 0 && size + item.line.length > this.options.segmentBytes) {
          await this.commit(group);
          await this.rotate();
          group = [];
          groupBytes = 0;
        }
        group.push(item);
        groupBytes += item.line.length;
      }
      await this.commit(group);
      for (const item of batch) item.resolve();
    } catch (err) {
      this.failure ??= err;
      for (const item of batch) item.reject(err);
    }
  }

  /** Writes the lines at the end of the current segment, then indexes them; the disk sync follows within SYNC_INTERVAL_MS. */
  private async commit(group: Pending[]): Promise<void> {
    if (group.length === 0) return;
    const bytes = Buffer.concat(group.map((item) => item.line));
    for (let written = 0; written < bytes.length; ) written += (await this.handle.write(bytes, written)).bytesWritten;
    this.syncTimer ??= setTimeout(() => void this.serially(() => this.syncSoon()), SYNC_INTERVAL_MS).unref();
    let offset = this.size;
    const entries = group.map(({ line, record }): IndexEntry => {
      const entry = { seq: this.seq, offset, length: line.length, ...entryOf(record) };
      offset += line.length;
      return entry;
    });
    this.index.add(this.seq, entries, offset);
    this.size = offset;
  }

  private async syncSoon(): Promise<void> {
    this.syncTimer = undefined;
    await this.handle.datasync().catch((err: unknown) => (this.failure ??= err));
  }

  /** Opens the next segment before letting go of the current one, so a failure leaves a usable handle. */
  private async rotate(): Promise<void> {
    const next = await open(segmentPath(this.options.dir, this.seq + 1), 'a');
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    await this.handle.datasync();
    await this.handle.close();
    this.seq += 1;
    this.handle = next;
    this.size = 0;
    this.index.addSegment(this.seq);
    await syncDirectory(this.options.dir);
  }

  /** Streams the segment through gzip into the archive; the archive appears complete or not at all. */
  private async archive(seq: number): Promise<void> {
    const archiveDir = path.join(this.options.dir, 'archive');
    const target = path.join(archiveDir, `${segmentFile(seq)}.gz`);
    const partial = `${target}.partial`;
    await pipeline(createReadStream(segmentPath(this.options.dir, seq)), createGzip(), createWriteStream(partial));
    const handle = await open(partial, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, target);
    await syncDirectory(archiveDir);
  }

  private async read(locations: Location[]): Promise<DecisionRecord[]> {
    const bySegment = new Map<number, Location[]>();
    for (const location of locations) bySegment.set(location.seq, [...(bySegment.get(location.seq) ?? []), location]);
    const lines = new Map<Location, Buffer>();
    await Promise.all(
      [...bySegment].map(async ([seq, places]) => {
        const bytes = await readAt(segmentPath(this.options.dir, seq), places).catch((err: NodeJS.ErrnoException) => {
          // Archived and deleted by retention between the index lookup and the read.
          if (err.code === 'ENOENT') return [];
          throw err;
        });
        bytes.forEach((line, i) => lines.set(places[i]!, line));
      }),
    );
    return locations.flatMap((location) => {
      const line = lines.get(location);
      return line ? [recordOfLine(line.toString('utf8'))] : [];
    });
  }
}

function entryOf(record: DecisionRecord): Omit<IndexEntry, 'seq' | 'offset' | 'length'> {
  return { id: record.id, decidedAt: record.decidedAt.getTime(), entrypoint: record.entrypoint, ownerId: ownerOf(record) };
}

/**
 * Indexes what the index lacks of one segment (all of it when the index is new). In the last
 * segment, a line that does not end in a newline or does not parse is a write torn by a crash —
 * never acknowledged, since a record is acknowledged only once it and everything before it has
 * been written — and the file is cut there. Elsewhere it is damage, and the log refuses to open.
 */
async function catchUp(index: SegmentIndex, dir: string, seq: number, last: boolean): Promise<void> {
  index.addSegment(seq);
  const file = segmentPath(dir, seq);
  const known = index.segments().find((s) => s.seq === seq)!;
  const { size } = await stat(file);
  if (size < known.indexedBytes) index.truncateSegment(seq, size);
  if (size <= known.indexedBytes) return;
  let batch: IndexEntry[] = [];
  let damaged = false;
  const end = await scanLines(file, Math.min(known.indexedBytes, size), (line, offset) => {
    let record: DecisionRecord;
    try {
      record = recordOfLine(line.toString('utf8'));
    } catch {
      damaged = true;
      return false;
    }
    batch.push({ seq, offset, length: line.length + 1, ...entryOf(record) });
    if (batch.length >= CATCH_UP_BATCH) {
      index.add(seq, batch, offset + line.length + 1);
      batch = [];
    }
    return true;
  });
  index.add(seq, batch, end);
  if (end === size) return;
  if (!last) throw new Error(`decision log segment ${file} is damaged at byte ${end}${damaged ? '' : ' (no newline at its end)'}`);
  await truncate(file, end);
}
