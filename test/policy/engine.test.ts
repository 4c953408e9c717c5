import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PolicyError } from '../../server/policy/bundle.js';
import { PolicyEngine, type ReloadOutcome } from '../../server/policy/engine.js';
import { readEntrypointPaths } from '../../server/policy/entrypoints.js';
import { BUNDLE_FILE } from '../../server/policy/paths.js';
import { consentCases } from './fixtures.js';
import { wasmVariant } from './wasm-variant.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('PolicyEngine with the committed bundle', () => {
  let engine: PolicyEngine;
  beforeAll(async () => {
    engine = await PolicyEngine.open();
  });

  it('reports the sha256 of the wasm as its digest', async () => {
    expect(engine.digest).toBe(sha256(await readFile(BUNDLE_FILE)));
  });

  it.each(consentCases)('decides consent: $name', ({ input, expected }) => {
    expect(engine.decide('consent', input).result).toEqual(expected);
  });

  it('records what it decided, with which bundle, from which input', () => {
    const [{ input }] = consentCases as [(typeof consentCases)[number]];
    const before = Date.now();
    const { result, record } = engine.decide('consent', input);
    expect(record).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      entrypoint: 'consent',
      bundleDigest: engine.digest,
      input,
      inputJson: JSON.stringify(input),
      result,
      decidedAt: expect.any(Date),
    });
    expect(record.decidedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(engine.decide('consent', input).record.id).not.toBe(record.id);
  });
});

describe('PolicyEngine reload', () => {
  let dir: string;
  let wasmFile: string;
  let original: Buffer;
  let engine: PolicyEngine;
  const input = consentCases[1]!.input;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'assent-policy-'));
    wasmFile = path.join(dir, 'policy.wasm');
    original = await readFile(BUNDLE_FILE);
    await writeFile(wasmFile, original);
    engine = await PolicyEngine.open({ wasmFile });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('swaps in a changed bundle and keeps the old one reachable by digest', async () => {
    const oldDigest = engine.digest;
    const variant = wasmVariant(original, 'v2');
    await writeFile(wasmFile, variant);

    await expect(engine.reload()).resolves.toEqual({ ok: true, digest: sha256(variant), changed: true });
    expect(engine.digest).toBe(sha256(variant));
    expect(engine.decide('consent', input).record.bundleDigest).toBe(sha256(variant));
    expect(engine.bundle(oldDigest)?.digest).toBe(oldDigest);
  });

  it('reports an unchanged file as unchanged', async () => {
    await expect(engine.reload()).resolves.toEqual({ ok: true, digest: engine.digest, changed: false });
  });

  it('keeps the old bundle when the file is corrupt', async () => {
    const digest = engine.digest;
    await writeFile(wasmFile, original.subarray(0, 1000));

    const outcome = await engine.reload();
    expect(outcome).toEqual({ ok: false, digest, error: expect.any(PolicyError) });
    expect((outcome as Extract<ReloadOutcome, { ok: false }>).error).toMatchObject({ code: 'load_failed' });
    expect(engine.digest).toBe(digest);
    expect(engine.decide('consent', input).result).toEqual(consentCases[1]!.expected);
  });

  it('keeps the old bundle when the file is gone', async () => {
    await rm(wasmFile);
    await expect(engine.reload()).resolves.toMatchObject({ ok: false, digest: sha256(original) });
  });

  it('refuses a bundle that lacks an entrypoint', async () => {
    const entrypoints = { ...(await readEntrypointPaths()), consent: 'assent/consent/nothing_here' };
    await expect(PolicyEngine.open({ wasmFile, entrypoints })).rejects.toMatchObject({ code: 'missing_entrypoint' });
  });

  it('reloads by itself when watching and the file is replaced', async () => {
    const outcomes: ReloadOutcome[] = [];
    const reloaded = new Promise<void>((resolve) => {
      const stop = engine.watch((outcome) => {
        outcomes.push(outcome);
        stop();
        resolve();
      }, 20);
    });
    const variant = wasmVariant(original, 'watched');
    await writeFile(`${wasmFile}.tmp`, variant);
    await rename(`${wasmFile}.tmp`, wasmFile);
    await reloaded;

    expect(outcomes).toEqual([{ ok: true, digest: sha256(variant), changed: true }]);
    expect(engine.digest).toBe(sha256(variant));
  });
});

describe('readEntrypointPaths', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'assent-entrypoints-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('rejects a list that differs from the typed entrypoints', async () => {
    const file = path.join(dir, 'entrypoints.json');
    await writeFile(file, JSON.stringify({ consent: 'assent/consent/decision', claims: 'assent/claims/decision' }));
    await expect(readEntrypointPaths(file)).rejects.toThrow(/lists \[claims,consent\]/);
  });
});
