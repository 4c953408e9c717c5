import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { lineOf, recordOfLine } from '../../server/policy/decisions/record-line.js';
import { listSegments, segmentPath } from '../../server/policy/decisions/segments.js';
import type { DecisionRecord } from '../../server/policy/engine.js';
import type { Store, StoredDocument } from '../../server/store/port.js';

/**
 * What the decision log has stored, read behind its back: on the embedded store the segment
 * files under `<dataDir>/decisions`, on MongoDB the `decisions` collection.
 */
interface Where {
  store: Store;
  dataDir: string;
}

/** Every recorded decision (of one entrypoint), in the order they were written. */
export async function storedDecisions({ store, dataDir }: Where, entrypoint?: string): Promise<DecisionRecord[]> {
  let records: DecisionRecord[];
  if (store.kind === 'embedded') {
    const dir = path.join(dataDir, 'decisions');
    records = [];
    for (const seq of await listSegments(dir)) {
      const text = await readFile(segmentPath(dir, seq), 'utf8');
      records.push(...text.split('\n').filter(Boolean).map(recordOfLine));
    }
  } else {
    const docs = await (await store.collection<StoredDocument & { entrypoint: string; bundleDigest: string; decidedAt: Date; input: string; result: string }>('decisions')).find({}, { sort: { decidedAt: 1 } });
    records = docs.map((d) => ({ id: d._id, entrypoint: d.entrypoint as DecisionRecord['entrypoint'], bundleDigest: d.bundleDigest, input: JSON.parse(d.input) as DecisionRecord['input'], inputJson: d.input, result: JSON.parse(d.result) as DecisionRecord['result'], decidedAt: d.decidedAt }));
  }
  return entrypoint === undefined ? records : records.filter((r) => r.entrypoint === entrypoint);
}

/**
 * Overwrites the stored result of a decision, as someone editing the files or the database
 * would. In a segment the forged line takes the original's place and length (JSON allows the
 * padding spaces), so the index still points at it; it has to be no longer than the original.
 */
export async function forgeDecisionResult({ store, dataDir }: Where, id: string, result: unknown): Promise<void> {
  if (store.kind !== 'embedded') {
    await (await store.collection<StoredDocument & { result: string }>('decisions')).update({ _id: id }, { result: JSON.stringify(result) });
    return;
  }
  const dir = path.join(dataDir, 'decisions');
  for (const seq of await listSegments(dir)) {
    const file = segmentPath(dir, seq);
    const text = await readFile(file);
    let offset = 0;
    for (const line of text.toString('utf8').split('\n')) {
      const length = Buffer.byteLength(line) + 1;
      if (line && recordOfLine(line).id === id) {
        const forged = lineOf({ ...recordOfLine(line), result: result as DecisionRecord['result'] }).trimEnd();
        if (Buffer.byteLength(forged) > length - 1) throw new Error('the forged line is longer than the original');
        const handle = await open(file, 'r+');
        await handle.write(`${forged.padEnd(length - 1 - Buffer.byteLength(forged) + forged.length, ' ')}\n`, offset);
        await handle.close();
        return;
      }
      offset += length;
    }
  }
  throw new Error(`no stored decision ${id}`);
}
