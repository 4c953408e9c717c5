import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the Rego sources, the entrypoint list and the committed bundle live under a checkout. */
export function policyPaths(root: string) {
  const policies = path.join(root, 'policies');
  return {
    policies,
    entrypoints: path.join(policies, 'entrypoints.json'),
    bundle: path.join(policies, 'build', 'policy.wasm'),
    manifest: path.join(policies, 'build', 'manifest.json'),
  };
}

export const { entrypoints: ENTRYPOINTS_FILE, bundle: BUNDLE_FILE } = policyPaths(REPO_ROOT);
