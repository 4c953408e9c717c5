import { randomUUID } from 'node:crypto';
import { watch as watchFs } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadBundle, sha256Hex, type PolicyBundle } from './bundle.js';
import {
  readEntrypointPaths,
  type EntrypointInput,
  type EntrypointName,
  type EntrypointOutput,
  type EntrypointPaths,
} from './entrypoints.js';
import { BUNDLE_FILE } from './paths.js';

/** What was decided, by which bundle, from which facts: enough to replay the decision later. */
export interface DecisionRecord<E extends EntrypointName = EntrypointName> {
  id: string;
  entrypoint: E;
  bundleDigest: string;
  /** The caller's input object itself (not a copy): build a fresh one per decision. */
  input: EntrypointInput<E>;
  /** The input as the policy was given it (JSON text), which is also what the log stores. */
  inputJson: string;
  result: EntrypointOutput<E>;
  decidedAt: Date;
}

export interface Decision<E extends EntrypointName> {
  result: EntrypointOutput<E>;
  record: DecisionRecord<E>;
}

export type ReloadOutcome =
  | { ok: true; digest: string; changed: boolean }
  | { ok: false; digest: string; error: Error };

export interface PolicyEngineOptions {
  /** Defaults to the committed policies/build/policy.wasm. */
  wasmFile?: string;
  /** Defaults to policies/entrypoints.json. */
  entrypoints?: EntrypointPaths;
}

/**
 * Holds the current policy bundle and makes decisions with it, synchronously and in-process.
 * `reload()` swaps in the file's current bundle only when it loads cleanly; every bundle this
 * engine has loaded stays reachable by digest so decisions it made can be recorded with it.
 */
export class PolicyEngine {
  private readonly loaded = new Map<string, PolicyBundle>();
  private pending: Promise<ReloadOutcome> | undefined;

  private constructor(
    readonly wasmFile: string,
    private readonly entrypoints: EntrypointPaths,
    private current: PolicyBundle,
  ) {
    this.loaded.set(current.digest, current);
  }

  static async open(options: PolicyEngineOptions = {}): Promise<PolicyEngine> {
    const wasmFile = options.wasmFile ?? BUNDLE_FILE;
    const entrypoints = options.entrypoints ?? (await readEntrypointPaths());
    const bundle = await loadBundle(await readFile(wasmFile), entrypoints);
    return new PolicyEngine(wasmFile, entrypoints, bundle);
  }

  /** sha256 (hex) of the current bundle's wasm. */
  get digest(): string {
    return this.current.digest;
  }

  bundle(digest: string): PolicyBundle | undefined {
    return this.loaded.get(digest);
  }

  decide<E extends EntrypointName>(entrypoint: E, input: EntrypointInput<E>): Decision<E> {
    const bundle = this.current;
    const inputJson = JSON.stringify(input);
    const result = bundle.evaluate(entrypoint, inputJson);
    const record = { id: randomUUID(), entrypoint, bundleDigest: bundle.digest, input, inputJson, result, decidedAt: new Date() };
    return { result, record };
  }

  /** Loads the file again; on any failure the current bundle stays in place. Calls are serialised. */
  reload(): Promise<ReloadOutcome> {
    const next = (this.pending ?? Promise.resolve()).then(() => this.load());
    this.pending = next;
    return next;
  }

  /**
   * Reloads `debounceMs` after the bundle file last changed (the directory is watched, so a file
   * replaced by rename is seen too). Returns a function that stops watching.
   */
  watch(onReload: (outcome: ReloadOutcome) => void = () => {}, debounceMs = 100): () => void {
    let timer: NodeJS.Timeout | undefined;
    const file = path.basename(this.wasmFile);
    const watcher = watchFs(path.dirname(this.wasmFile), (_event, changed) => {
      if (changed !== file) return;
      clearTimeout(timer);
      timer = setTimeout(() => void this.reload().then(onReload), debounceMs);
    });
    return () => {
      clearTimeout(timer);
      watcher.close();
    };
  }

  private async load(): Promise<ReloadOutcome> {
    try {
      const wasm = await readFile(this.wasmFile);
      const bundle = this.loaded.get(sha256Hex(wasm)) ?? (await loadBundle(wasm, this.entrypoints));
      const changed = bundle.digest !== this.current.digest;
      this.loaded.set(bundle.digest, bundle);
      this.current = bundle;
      return { ok: true, digest: bundle.digest, changed };
    } catch (err) {
      return { ok: false, digest: this.current.digest, error: err instanceof Error ? err : new Error(String(err)) };
    }
  }
}
