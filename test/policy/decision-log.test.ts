import { readFile } from 'node:fs/promises';
import { DecisionLog } from '../../server/policy/decision-log.js';
import { loadBundle } from '../../server/policy/bundle.js';
import { PolicyEngine } from '../../server/policy/engine.js';
import { readEntrypointPaths } from '../../server/policy/entrypoints.js';
import { BUNDLE_FILE } from '../../server/policy/paths.js';
import type { Store, StoredDocument } from '../../server/store/port.js';
import { disposeStore, storeBackends } from '../support/stores.js';
import { consentCases } from './fixtures.js';
import { wasmVariant } from './wasm-variant.js';

describe.each(storeBackends)('DecisionLog on the $name store', ({ open }) => {
  let store: Store;
  let engine: PolicyEngine;
  let log: DecisionLog;
  const input = consentCases[1]!.input;

  beforeEach(async () => {
    store = await open();
    engine = await PolicyEngine.open();
    log = await DecisionLog.open(store, engine);
  });
  afterEach(() => disposeStore(store));

  it('stores a record as it was made', async () => {
    const { record } = engine.decide('consent', input);
    await log.record(record);
    await expect(log.find(record.id)).resolves.toEqual(record);
    await expect(log.find('no-such-decision')).resolves.toBeNull();
  });

  it('stores each bundle once, however many decisions it makes', async () => {
    for (const { input } of consentCases) await log.record(engine.decide('consent', input).record);
    const later = await DecisionLog.open(store, engine);
    await later.record(engine.decide('consent', input).record);

    const bundles = await store.collection<StoredDocument>('policy_bundles');
    await expect(bundles.count({})).resolves.toBe(1);
    await expect(bundles.findOne({ _id: engine.digest })).resolves.toBeTruthy();
    await expect((await store.collection('decisions')).count({})).resolves.toBe(consentCases.length + 1);
  });

  it('replays a decision against the bundle that made it, from the store', async () => {
    const { record } = engine.decide('consent', input);
    await log.record(record);
    // Another process, now running a different bundle: the original has to come from the store.
    const variant = await loadBundle(wasmVariant(await readFile(BUNDLE_FILE), 'next'), await readEntrypointPaths());
    const otherEngine = { bundle: (digest: string) => (digest === variant.digest ? variant : undefined) };
    const otherLog = await DecisionLog.open(store, otherEngine);

    await expect(otherLog.replay(record.id)).resolves.toEqual({ record, replayed: record.result, matches: true });
    await expect(otherLog.replay('no-such-decision')).resolves.toBeNull();
  });

  it('says when the replay differs from the recorded result', async () => {
    const { record } = engine.decide('consent', input);
    await log.record(record);
    const forged = { ...record.result, granted: [] };
    await (await store.collection<StoredDocument & { result: string }>('decisions')).update({ _id: record.id }, { result: JSON.stringify(forged) });

    await expect(log.replay(record.id)).resolves.toMatchObject({ replayed: record.result, matches: false });
  });

  it('refuses a stored bundle whose bytes do not match its digest', async () => {
    const { record } = engine.decide('consent', input);
    await log.record(record);
    const tampered = wasmVariant(await readFile(BUNDLE_FILE), 'tampered').toString('base64');
    await (await store.collection<StoredDocument & { wasm: string }>('policy_bundles')).update({ _id: record.bundleDigest }, { wasm: tampered });
    const freshLog = await DecisionLog.open(store, { bundle: () => undefined });

    await expect(freshLog.replay(record.id)).rejects.toMatchObject({ code: 'load_failed' });
  });

  it('refuses a record from a bundle its engine never loaded', async () => {
    const { record } = engine.decide('consent', input);
    await expect(log.record({ ...record, bundleDigest: 'f'.repeat(64) })).rejects.toThrow(/was not loaded/);
  });
});
