import { open, readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * A segment is `<12-digit sequence number>.ndjson`: one decision per line (record-line.ts),
 * appended only, never rewritten once the next segment has begun. Sequence numbers only grow,
 * so name order is log order — which is what a future hash chain across segments follows.
 */
const SEGMENT_FILE = /^(\d{12})\.ndjson$/;

export function segmentFile(seq: number): string {
  return `${String(seq).padStart(12, '0')}.ndjson`;
}

/** The sequence numbers of the segments in `dir`, in log order. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  return names
    .map((name) => SEGMENT_FILE.exec(name)?.[1])
    .filter((digits): digits is string => digits !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

const NEWLINE = 0x0a;
const CHUNK_BYTES = 1 << 20;

/**
 * Calls `onLine` with each complete line (without its newline) from byte `from` on, and its
 * offset, until the end or until `onLine` returns false. Returns the offset just after the last
 * line accepted: a trailing fragment without a newline, or the line refused, begins there.
 */
export async function scanLines(file: string, from: number, onLine: (line: Buffer, offset: number) => boolean): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let carry = Buffer.alloc(0);
    let position = from;
    let accepted = from;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, position);
      if (bytesRead === 0) return accepted;
      position += bytesRead;
      const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      for (let end = data.indexOf(NEWLINE); end !== -1; end = data.indexOf(NEWLINE, start)) {
        if (!onLine(data.subarray(start, end), accepted)) return accepted;
        accepted += end + 1 - start;
        start = end + 1;
      }
      carry = Buffer.from(data.subarray(start));
    }
  } finally {
    await handle.close();
  }
}

/** The bytes of several records of one segment, each read at its own place. */
export async function readAt(file: string, places: { offset: number; length: number }[]): Promise<Buffer[]> {
  const handle = await open(file, 'r');
  try {
    return await Promise.all(
      places.map(async ({ offset, length }) => {
        const bytes = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(bytes, 0, length, offset);
        return bytes.subarray(0, bytesRead);
      }),
    );
  } finally {
    await handle.close();
  }
}

/** Makes a file's creation, rename or removal in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function segmentPath(dir: string, seq: number): string {
  return path.join(dir, segmentFile(seq));
}
