import { readFile, rm, writeFile } from 'node:fs/promises';
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
 * would. On the embedded store the log must be closed: the segment is rewritten and the index
 * removed, so the next open rebuilds it from the forged segment.
 */
export async function forgeDecisionResult({ store, dataDir }: Where, id: string, result: unknown): Promise<void> {
  if (store.kind !== 'embedded') {
    await (await store.collection<StoredDocument & { result: string }>('decisions')).update({ _id: id }, { result: JSON.stringify(result) });
    return;
  }
  const dir = path.join(dataDir, 'decisions');
  for (const seq of await listSegments(dir)) {
    const file = segmentPath(dir, seq);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    const at = lines.findIndex((line) => recordOfLine(line).id === id);
    if (at === -1) continue;
    lines[at] = lineOf({ ...recordOfLine(lines[at]!), result: result as DecisionRecord['result'] }).trimEnd();
    await writeFile(file, `${lines.join('\n')}\n`);
    for (const name of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm']) await rm(path.join(dir, name), { force: true });
    return;
  }
  throw new Error(`no stored decision ${id}`);
}
