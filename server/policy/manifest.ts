import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from './bundle.js';
import { policyPaths, REPO_ROOT } from './paths.js';

/** policies/build/manifest.json, written by `npm run policies:build`. */
export interface BundleManifest {
  opa_version: string;
  entrypoints: Record<string, string>;
  wasm_sha256: string;
  /** Repository-relative path → sha256 of every file the bundle is built from. */
  sources: Record<string, string>;
}

/**
 * Compares the committed bundle with its sources by hash, without OPA, and says what is out of
 * date; an empty list means the bundle matches. (`npm run policies:check` verifies the build itself.)
 */
export async function bundleStaleness(root: string = REPO_ROOT): Promise<string[]> {
  const paths = policyPaths(root);
  const rel = (file: string) => path.relative(root, file).split(path.sep).join('/');
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(await readFile(paths.manifest, 'utf8')) as BundleManifest;
  } catch {
    return [`${rel(paths.manifest)} is missing or unreadable`];
  }
  const problems: string[] = [];
  const wasm = await readFile(paths.bundle).catch(() => undefined);
  if (!wasm) problems.push(`${rel(paths.bundle)} is missing`);
  else if (sha256Hex(wasm) !== manifest.wasm_sha256) problems.push(`${rel(paths.bundle)} does not match the manifest`);

  const current = new Map<string, string>();
  for (const file of [paths.entrypoints, ...(await regoSources(paths.policies))]) {
    current.set(rel(file), sha256Hex(await readFile(file)));
  }
  for (const [file, digest] of current) {
    const built = manifest.sources[file];
    if (built === undefined) problems.push(`${file} is new since the build`);
    else if (built !== digest) problems.push(`${file} changed since the build`);
  }
  for (const file of Object.keys(manifest.sources)) {
    if (!current.has(file)) problems.push(`${file} was removed since the build`);
  }
  return problems;
}

async function regoSources(policiesDir: string): Promise<string[]> {
  const entries = await readdir(policiesDir, { recursive: true });
  return entries
    .filter((f) => f.endsWith('.rego') && !f.endsWith('_test.rego') && !f.startsWith(`build${path.sep}`))
    .map((f) => path.join(policiesDir, f));
}
