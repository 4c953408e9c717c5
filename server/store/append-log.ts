import { open, type FileHandle } from 'node:fs/promises';

/**
 * Appends text to one file through a handle kept open, as a group commit: what is appended while
 * a write is in flight goes out together in the next single write. `settled()` resolves once
 * everything appended before the call is written. A failed write fails every later one too, so
 * nothing is acknowledged after a hole in the file.
 */
export class AppendLog {
  private handle: Promise<FileHandle> | undefined;
  private pending: string[] = [];
  /** The batch still collecting text, if any. */
  private collecting: Promise<void> | undefined;
  /** The last batch queued (collecting, in flight or done). */
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly filename: string,
    private readonly mode: number,
  ) {}

  append(text: string): void {
    this.pending.push(text);
    if (this.collecting) return;
    const batch = this.last.then(() => this.write());
    // Writers and readers observe failures through settled(); this only keeps an unobserved
    // failure from becoming an unhandled rejection.
    batch.catch(() => {});
    this.collecting = this.last = batch;
  }

  settled(): Promise<void> {
    return this.collecting ?? this.last;
  }

  /** The file was replaced (nedb compacts by writing a new file and renaming it): later batches open the new one. */
  reopen(): Promise<void> {
    const old = this.handle;
    this.handle = undefined;
    if (!old) return Promise.resolve();
    const close = () => old.then((h) => h.close()).catch(() => {});
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

  private async write(): Promise<void> {
    const text = this.pending.join('');
    this.pending = [];
    this.collecting = undefined;
    this.handle ??= open(this.filename, 'a', this.mode);
    await (await this.handle).appendFile(text, 'utf8');
  }
}
