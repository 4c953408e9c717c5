import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleStaleness } from '../../server/policy/manifest.js';
import { REPO_ROOT } from '../../server/policy/paths.js';

describe('bundleStaleness', () => {
  it('finds the committed bundle up to date with its sources (else: npm run policies:build)', async () => {
    await expect(bundleStaleness()).resolves.toEqual([]);
  });

  describe('on a copy of the policies', () => {
    let root: string;
    beforeEach(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'assent-manifest-'));
      await cp(path.join(REPO_ROOT, 'policies'), path.join(root, 'policies'), { recursive: true });
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    it('names changed, new and removed sources and a replaced wasm, but ignores tests', async () => {
      await writeFile(path.join(root, 'policies/consent/consent.rego'), 'package assent.consent\n');
      await writeFile(path.join(root, 'policies/consent/extra.rego'), 'package assent.extra\n');
      await writeFile(path.join(root, 'policies/consent/extra_test.rego'), 'package assent.extra_test\n');
      await writeFile(path.join(root, 'policies/build/policy.wasm'), 'not wasm');

      await expect(bundleStaleness(root)).resolves.toEqual([
        'policies/build/policy.wasm does not match the manifest',
        'policies/consent/consent.rego changed since the build',
        'policies/consent/extra.rego is new since the build',
      ]);
      await rm(path.join(root, 'policies/consent/consent.rego'));
      await expect(bundleStaleness(root)).resolves.toContain('policies/consent/consent.rego was removed since the build');
    });

    it('says so when there is no manifest', async () => {
      await rm(path.join(root, 'policies/build/manifest.json'));
      await expect(bundleStaleness(root)).resolves.toEqual(['policies/build/manifest.json is missing or unreadable']);
    });
  });
});
