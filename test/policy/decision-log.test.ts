import { copyFile, mkdtemp, readdir, readFile, rm, stat, appendFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DecisionLog, type DecisionLogOptions } from '../../server/policy/decision-log.js';
import { recordOfLine } from '../../server/policy/decisions/record-line.js';
import { DAY_MS } from '../../server/policy/decisions/sink.js';
import { loadBundle } from '../../server/policy/bundle.js';
import { PolicyEngine, type DecisionRecord } from '../../server/policy/engine.js';
import { readEntrypointPaths } from '../../server/policy/entrypoints.js';
import { BUNDLE_FILE } from '../../server/policy/paths.js';
import type { Store, StoredDocument } from '../../server/store/port.js';
import { forgeDecisionResult, storedDecisions } from '../support/decisions.js';
import { disposeStore, storeBackends } from '../support/stores.js';
import { claimsInput } from './decision-inputs.js';
import { consentCases } from './fixtures.js';
import { wasmVariant } from './wasm-variant.js';

const input = consentCases[1]!.input;

/** A record as if decided `daysAgo` days before `now`. */
function aged(record: DecisionRecord, now: Date, daysAgo: number): DecisionRecord {
  return { ...record, decidedAt: new Date(now.getTime() - daysAgo * DAY_MS) };
}

/** Options of a log in a fresh data directory; `segmentBytes: 1` puts every record in a segment of its own. */
async function logOptions(segmentBytes = 1 << 20): Promise<DecisionLogOptions> {
  return { dataDir: await mkdtemp(path.join(tmpdir(), 'assent-decisions-')), decisionRetentionDays: 400, decisionSegmentBytes: segmentBytes };
}

describe.each(storeBackends)('DecisionLog on the $name store', ({ open }) => {
  let store: Store;
  let engine: PolicyEngine;
  let options: DecisionLogOptions;
  let log: DecisionLog;
  const opened: DecisionLog[] = [];
  const openLog = async (bundles: Pick<PolicyEngine, 'bundle'> = engine, at = options) => {
    const l = await DecisionLog.open(store, { bundle: (digest) => bundles.bundle(digest), decide: (entrypoint, input) => engine.decide(entrypoint, input) }, at);
    opened.push(l);
    return l;
  };
  const where = () => ({ store, dataDir: options.dataDir });

  beforeEach(async () => {
    store = await open();
    engine = await PolicyEngine.open();
    options = await logOptions();
    log = await openLog();
  });
  afterEach(async () => {
    for (const l of opened.splice(0)) await l.close();
    await disposeStore(store);
    await rm(options.dataDir, { recursive: true, force: true });
  });

  it('stores a record as it was made', async () => {
    const { record } = engine.decide('consent', input);
    await log.record(record);
    await expect(log.find(record.id)).resolves.toEqual(record);
    await expect(log.find('no-such-decision')).resolves.toBeNull();
  });

  it('stores each bundle once, however many decisions it makes', async () => {
    for (const { input } of consentCases) await log.record(engine.decide('consent', input).record);
    await log.close();
    const later = await openLog();
    await later.record(engine.decide('consent', input).record);

    const bundles = await store.collection<StoredDocument>('policy_bundles');
    await expect(bundles.count({})).resolves.toBe(1);
    await expect(bundles.findOne({ _id: engine.digest })).resolves.toBeTruthy();
    await expect(storedDecisions(where())).resolves.toHaveLength(consentCases.length + 1);
  });

  it('finds after a restart what was recorded before', async () => {
    const records = consentCases.map(({ input }) => engine.decide('consent', input).record);
    for (const record of records) await log.record(record);
    await log.close();
    const reopened = await openLog();
    for (const record of records) await expect(reopened.find(record.id)).resolves.toEqual(record);
  });

  it('lists an owner’s decisions of one entrypoint, newest first, up to the limit', async () => {
    const now = new Date();
    const mine = [3, 1, 2].map((daysAgo) => aged(engine.decide('claims', claimsInput('owner-1')).record, now, daysAgo));
    for (const record of mine) await log.record(record);
    await log.record(engine.decide('claims', claimsInput('owner-2')).record);
    await log.record(engine.decide('consent', input).record);

    const newestFirst = [mine[1]!, mine[2]!, mine[0]!];
    await expect(log.ofOwner('owner-1', 'claims')).resolves.toEqual(newestFirst);
    await expect(log.ofOwner('owner-1', 'claims', 2)).resolves.toEqual(newestFirst.slice(0, 2));
    await expect(log.ofOwner('owner-1', 'consent')).resolves.toEqual([]);
    await expect(log.ofOwner('nobody', 'claims')).resolves.toEqual([]);
  });

  it('replays a decision against the bundle that made it, from the store', async () => {
    const { record } = engine.decide('consent', input);
    await log.record(record);
    // Another process, now running a different bundle: the original has to come from the store.
    await log.close();
    const variant = await loadBundle(wasmVariant(await readFile(BUNDLE_FILE), 'next'), await readEntrypointPaths());
    const otherLog = await openLog({ bundle: (digest: string) => (digest === variant.digest ? variant : undefined) });

    await expect(otherLog.replay(record.id)).resolves.toEqual({ record, replayed: record.result, matches: true });
    await expect(otherLog.replay('no-such-decision')).resolves.toBeNull();
  });

  it('says when the replay differs from the recorded result', async () => {
    const { record } = engine.decide('consent', input);
    await log.record(record);
    await log.close();
    await forgeDecisionResult(where(), record.id, { ...record.result, granted: [] });
    const reopened = await openLog();

    await expect(reopened.replay(record.id)).resolves.toMatchObject({ replayed: record.result, matches: false });
  });

  it('refuses a stored bundle whose bytes do not match its digest', async () => {
    const { record } = engine.decide('consent', input);
    await log.record(record);
    await log.close();
    const tampered = wasmVariant(await readFile(BUNDLE_FILE), 'tampered').toString('base64');
    await (await store.collection<StoredDocument & { wasm: string }>('policy_bundles')).update({ _id: record.bundleDigest }, { wasm: tampered });
    const freshLog = await openLog({ bundle: () => undefined });

    await expect(freshLog.replay(record.id)).rejects.toMatchObject({ code: 'load_failed' });
  });

  it('refuses a record from a bundle its engine never loaded', async () => {
    const { record } = engine.decide('consent', input);
    await expect(log.record({ ...record, bundleDigest: 'f'.repeat(64) })).rejects.toThrow(/was not loaded/);
  });

  it('lets go of the records past the retention, and only those', async () => {
    await log.close();
    await rm(options.dataDir, { recursive: true, force: true });
    options = await logOptions(1);
    log = await openLog();
    const now = new Date('2031-03-01T00:00:00Z');
    const expired = [401, 900].map((days) => aged(engine.decide('claims', claimsInput('owner-1')).record, now, days));
    const kept = [399, 0].map((days) => aged(engine.decide('claims', claimsInput('owner-1')).record, now, days));
    for (const record of [...expired, ...kept]) await log.record(record);

    await expect(log.retentionTask().run(now)).resolves.toBe(2);
    for (const record of expired) await expect(log.find(record.id)).resolves.toBeNull();
    for (const record of kept) await expect(log.find(record.id)).resolves.toEqual(record);
    await expect(log.ofOwner('owner-1', 'claims')).resolves.toEqual([kept[1], kept[0]]);
    await expect(log.applyRetention(now)).resolves.toBe(0);
    expect(log.retentionTask().name).toBe('decision-retention');

    // A year on, the rest goes too, and the log still takes new records.
    await expect(log.applyRetention(new Date(now.getTime() + 401 * DAY_MS))).resolves.toBe(2);
    const next = engine.decide('consent', input).record;
    await log.record(next);
    await expect(storedDecisions(where())).resolves.toEqual([next]);
  });
});

describe('the embedded decision log’s files', () => {
  const backend = storeBackends.find((b) => b.name === 'embedded')!;
  let store: Store;
  let engine: PolicyEngine;
  let options: DecisionLogOptions;
  let dir: string;
  const opened: DecisionLog[] = [];
  const openLog = async () => {
    const l = await DecisionLog.open(store, engine, options);
    opened.push(l);
    return l;
  };
  const recordMany = async (log: DecisionLog, n: number, owner = 'owner-1') => {
    const records = Array.from({ length: n }, () => engine.decide('claims', claimsInput(owner)).record);
    await Promise.all(records.map((r) => log.record(r)));
    return records;
  };
  const segments = async () => (await readdir(dir)).filter((name) => name.endsWith('.ndjson')).sort();
  const closeAll = async () => {
    for (const l of opened.splice(0)) await l.close();
  };

  beforeEach(async () => {
    store = await backend.open();
    engine = await PolicyEngine.open();
    options = await logOptions();
    dir = path.join(options.dataDir, 'decisions');
  });
  afterEach(async () => {
    await closeAll();
    await disposeStore(store);
    await rm(options.dataDir, { recursive: true, force: true });
  });

  it('moves the decisions an earlier version kept in the store (imported from nedb) into the file log, once', async () => {
    const records = Array.from({ length: 3 }, (_, i) => engine.decide('claims', claimsInput(`owner-${i % 2}`)).record);
    const legacy = await store.collection<StoredDocument & Record<string, unknown>>('decisions');
    for (const r of records) {
      await legacy.insert({ _id: r.id, entrypoint: r.entrypoint, bundleDigest: r.bundleDigest, decidedAt: r.decidedAt, input: r.inputJson, result: JSON.stringify(r.result), ownerId: (r.input as { owner: { sub: string } }).owner.sub });
    }
    const log = await openLog();
    await expect(legacy.count({})).resolves.toBe(0);
    for (const r of records) await expect(log.find(r.id)).resolves.toEqual(r);
    expect((await log.ofOwner('owner-0', 'claims')).map((r) => r.id).sort()).toEqual([records[0]!.id, records[2]!.id].sort());
    await closeAll();
    const reopened = await openLog();
    expect(await storedDecisions({ store, dataDir: options.dataDir })).toHaveLength(3);
    await expect(reopened.find(records[1]!.id)).resolves.toEqual(records[1]);
  });

  it('keeps nothing of the log in the store’s collections', async () => {
    const log = await openLog();
    const [record] = await recordMany(log, 1);
    await expect((await store.collection('decisions')).count({})).resolves.toBe(0);
    expect((await readFile(path.join(dir, (await segments())[0]!), 'utf8')).trimEnd().split('\n').map(recordOfLine)).toEqual([record]);
  });

  it('writes concurrent records each once, whole and in their segment', async () => {
    options.decisionSegmentBytes = 16 * 1024;
    const log = await openLog();
    const records = await recordMany(log, 300);
    const files = await segments();
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) expect((await stat(path.join(dir, file))).size).toBeLessThanOrEqual(16 * 1024);
    const stored = await storedDecisions({ store, dataDir: options.dataDir });
    expect(stored.map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
    for (const record of records) await expect(log.find(record.id)).resolves.toEqual(record);

    await closeAll();
    const reopened = await openLog();
    await expect(reopened.ofOwner('owner-1', 'claims', 1000)).resolves.toHaveLength(300);
  });

  it('cuts off a line torn by a crash at open, and goes on after it', async () => {
    const log = await openLog();
    const records = await recordMany(log, 3);
    await closeAll();
    const [file] = await segments();
    const whole = (await stat(path.join(dir, file!))).size;
    await appendFile(path.join(dir, file!), '{"id":"torn","entrypoint":"cla');

    const reopened = await openLog();
    expect((await stat(path.join(dir, file!))).size).toBe(whole);
    for (const record of records) await expect(reopened.find(record.id)).resolves.toEqual(record);
    const [after] = await recordMany(reopened, 1);
    await expect(storedDecisions({ store, dataDir: options.dataDir })).resolves.toEqual([...records, after]);
  });

  it('rebuilds a missing or unreadable index from the segments', async () => {
    options.decisionSegmentBytes = 4096;
    const records = await recordMany(await openLog(), 40);
    await closeAll();
    for (const name of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm']) await rm(path.join(dir, name), { force: true });

    const rebuilt = await openLog();
    for (const record of records) await expect(rebuilt.find(record.id)).resolves.toEqual(record);
    await closeAll();
    await writeFile(path.join(dir, 'index.sqlite'), 'not an index at all '.repeat(400));
    const again = await openLog();
    await expect(again.ofOwner('owner-1', 'claims', 100)).resolves.toHaveLength(40);
  });

  it('catches up an index left behind the segments', async () => {
    options.decisionSegmentBytes = 4096;
    const before = await recordMany(await openLog(), 10);
    await closeAll();
    await copyFile(path.join(dir, 'index.sqlite'), path.join(options.dataDir, 'old-index'));
    const after = await recordMany(await openLog(), 30);
    await closeAll();
    await rm(path.join(dir, 'index.sqlite-wal'), { force: true });
    await rm(path.join(dir, 'index.sqlite-shm'), { force: true });
    await copyFile(path.join(options.dataDir, 'old-index'), path.join(dir, 'index.sqlite'));

    const caughtUp = await openLog();
    for (const record of [...before, ...after]) await expect(caughtUp.find(record.id)).resolves.toEqual(record);
    await expect(caughtUp.ofOwner('owner-1', 'claims', 100)).resolves.toHaveLength(40);
  });

  it('archives expired segments as gzip NDJSON holding their records, then deletes them', async () => {
    options.decisionSegmentBytes = 1;
    const log = await openLog();
    const now = new Date('2031-03-01T00:00:00Z');
    const expired = [700, 500].map((days) => aged(engine.decide('claims', claimsInput('owner-1')).record, now, days));
    for (const record of expired) await log.record(record);
    await log.record(aged(engine.decide('claims', claimsInput('owner-1')).record, now, 10));
    const files = await segments();

    await expect(log.applyRetention(now)).resolves.toBe(2);
    expect(await segments()).toEqual(files.slice(2));
    const archives = (await readdir(path.join(dir, 'archive'))).sort();
    expect(archives).toEqual(files.slice(0, 2).map((f) => `${f}.gz`));
    const archived = [];
    for (const name of archives) {
      archived.push(...gunzipSync(await readFile(path.join(dir, 'archive', name))).toString('utf8').trimEnd().split('\n').map(recordOfLine));
    }
    expect(archived).toEqual(expired);

    // Gone from the index too: a restart finds neither them nor their segments.
    await closeAll();
    const reopened = await openLog();
    for (const record of expired) await expect(reopened.find(record.id)).resolves.toBeNull();
    await expect(reopened.ofOwner('owner-1', 'claims')).resolves.toHaveLength(1);
  });

  it('refuses to open over a damaged segment that is not the last', async () => {
    options.decisionSegmentBytes = 1;
    await recordMany(await openLog(), 3);
    await closeAll();
    const [first] = await segments();
    await writeFile(path.join(dir, first!), 'garbage\n');
    await rm(path.join(dir, 'index.sqlite'));
    await expect(DecisionLog.open(store, engine, options)).rejects.toThrow(/is damaged at byte 0/);
  });
});
