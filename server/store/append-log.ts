import { closeSync, openSync, write, writeSync } from 'node:fs';
import { promisify } from 'node:util';

const writeAsync = promisify(write);

/**
 * Appends text to one file through a descriptor kept open. The first append of an event-loop turn
 * that finds no write pending is written synchronously: a small append to the page cache costs a
 * few microseconds, far less than a round trip through libuv's thread pool. Further appends go
 * out as a group commit: everything appended while a write is queued or in flight is written
 * together, in the thread pool, so that under load one write serves many operations and the event
 * loop never waits on the disk. `settled()` resolves once everything appended before the call is
 * written. After a failed write every later append fails too, so nothing is acknowledged after a
 * hole in the file.
 */
export class AppendLog {
  private fd: number | undefined;
  private pending: string[] = [];
  /** The batch still collecting text, if any. */
  private collecting: Promise<void> | undefined;
  /** The last batch queued (collecting, in flight or done). */
  private last: Promise<void> = Promise.resolve();
  private batchesUnfinished = 0;
  private wroteSyncThisTurn = false;
  private failure: unknown;

  constructor(
    private readonly filename: string,
    private readonly mode: number,
  ) {}

  append(text: string): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.batchesUnfinished === 0 && !this.wroteSyncThisTurn) {
      this.wroteSyncThisTurn = true;
      setImmediate(() => (this.wroteSyncThisTurn = false));
      try {
        this.writeAll(Buffer.from(text, 'utf8'));
      } catch (err) {
        this.failure = err;
        throw err;
      }
      return;
    }
    this.pending.push(text);
    if (this.collecting) return;
    this.batchesUnfinished++;
    const batch = this.last.then(() => this.writeBatch()).finally(() => this.batchesUnfinished--);
    // Writers and readers observe failures through settled(); this only keeps an unobserved
    // failure from becoming an unhandled rejection.
    batch.catch(() => {});
    this.collecting = this.last = batch;
  }

  settled(): Promise<void> {
    return this.collecting ?? this.last;
  }

  /** The file was replaced (nedb compacts by writing a new file and renaming it over): the next write opens the new one. */
  reopen(): Promise<void> {
    const old = this.fd;
    this.fd = undefined;
    if (old === undefined) return Promise.resolve();
    // Batches already queued may still be writing to it.
    const close = () => closeSync(old);
    return this.last.then(close, close);
  }

  /** Waits for what was appended, then closes the file. */
  async close(): Promise<void> {
    try {
      await this.settled();
    } finally {
      await this.reopen();
    }
  }

  private writeAll(bytes: Buffer) {
    const fd = (this.fd ??= openSync(this.filename, 'a', this.mode));
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
  }

  private async writeBatch(): Promise<void> {
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.collecting = undefined;
    try {
      const fd = (this.fd ??= openSync(this.filename, 'a', this.mode));
      for (let offset = 0; offset < bytes.length; ) offset += (await writeAsync(fd, bytes, offset)).bytesWritten;
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }
}
