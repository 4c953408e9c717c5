import type { DecisionRecord } from '../engine.js';
import type { EntrypointName } from '../entrypoints.js';

/**
 * Where decision records are kept: a segmented file log beside the embedded store
 * (file-sink.ts), or the `decisions` collection on MongoDB (collection-sink.ts).
 */
export interface DecisionSink {
  /** Resolves once the record survives the process being killed (the store's durability class). */
  append(record: DecisionRecord): Promise<void>;
  find(id: string): Promise<DecisionRecord | null>;
  /** The most recent decisions of one entrypoint about one owner, newest first. */
  ofOwner(ownerId: string, entrypoint: EntrypointName, limit: number): Promise<DecisionRecord[]>;
  /** Removes (the file log: archives, then removes) the records older than the retention; returns how many. */
  applyRetention(now: Date): Promise<number>;
  /** False once a write has failed (the file log then refuses every record) or the sink is closed. */
  writable(): boolean;
  close(): Promise<void>;
}

/** `input.owner.sub` when the input has one (claims): lets an owner list the decisions about them. */
export function ownerOf(record: DecisionRecord): string | undefined {
  const owner = (record.input as { owner?: { sub?: unknown } }).owner?.sub;
  return typeof owner === 'string' ? owner : undefined;
}

export const DAY_MS = 86_400_000;

/** The instant before which records are past the retention. */
export function retentionCutoff(now: Date, retentionDays: number): Date {
  return new Date(now.getTime() - retentionDays * DAY_MS);
}
