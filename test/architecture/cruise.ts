import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../server/policy/paths.js';

export const CONFIG = path.join(REPO_ROOT, '.dependency-cruiser.cjs');
const CLI = path.join(REPO_ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

export interface Violation {
  rule: string;
  from: string;
  to: string;
  /** For a cycle: the modules around it. */
  cycle?: string[];
}

interface CruiseOutput {
  summary: {
    totalCruised: number;
    violations: { rule: { name: string }; from: string; to: string; cycle?: ({ name: string } | string)[] }[];
  };
}

/**
 * Runs dependency-cruiser with the repository's configuration over `<root>/server`, with paths
 * relative to `root` (the repository, or a fixture tree), and returns what it found. The CLI
 * rather than the API: it runs outside jest's module sandbox exactly as `npm run architecture` does.
 */
export async function cruise(root: string): Promise<{ cruised: number; violations: Violation[] }> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'server', '--config', CONFIG, '--output-type', 'json'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    // It exits non-zero when a rule is violated; the report is still on stdout.
    if (err.stdout) return { stdout: err.stdout };
    throw new Error(`dependency-cruiser failed: ${err.stderr ?? String(err)}`);
  });
  const output = JSON.parse(stdout) as CruiseOutput;
  return {
    cruised: output.summary.totalCruised,
    violations: output.summary.violations.map((v) => ({
      rule: v.rule.name,
      from: v.from,
      to: v.to.replace(/^.*node_modules\//, 'node_modules/'),
      ...(v.cycle ? { cycle: v.cycle.map((c) => (typeof c === 'string' ? c : c.name)) } : {}),
    })),
  };
}
