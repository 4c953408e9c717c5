import { createHash } from 'node:crypto';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import {
  entrypointNames,
  type EntrypointName,
  type EntrypointOutput,
  type EntrypointPaths,
} from './entrypoints.js';

export type PolicyErrorCode = 'load_failed' | 'missing_entrypoint' | 'evaluation_failed' | 'undefined_decision';

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(
    readonly code: PolicyErrorCode,
    message: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** One compiled policy module, instantiated once and evaluated synchronously any number of times. */
export interface PolicyBundle {
  /** sha256 (hex) of the wasm bytes. */
  readonly digest: string;
  readonly wasm: Uint8Array;
  /** The entrypoints this bundle was loaded for (a stored older bundle may predate some). */
  readonly entrypoints: Partial<EntrypointPaths>;
  /** `inputJson` is JSON text of an EntrypointInput<E>: the caller serialises once, for this and for the decision log. */
  evaluate<E extends EntrypointName>(entrypoint: E, inputJson: string): EntrypointOutput<E>;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Instantiates `wasm`, failing unless it exports every entrypoint in `entrypoints`. */
export async function loadBundle(wasm: Uint8Array, entrypoints: Partial<EntrypointPaths>): Promise<PolicyBundle> {
  const digest = sha256Hex(wasm);
  let policy: Awaited<ReturnType<typeof loadPolicy>>;
  try {
    policy = await loadPolicy(wasm, undefined, HOST_BUILTINS);
  } catch (cause) {
    throw new PolicyError('load_failed', `policy bundle ${digest.slice(0, 12)} failed to load: ${describe(cause)}`, {
      cause,
    });
  }
  const exported = policy.entrypoints as Record<string, number>;
  const ids = new Map<EntrypointName, number>();
  for (const name of entrypointNames) {
    const regoPath = entrypoints[name];
    if (regoPath === undefined) continue;
    const id = exported[regoPath];
    if (id === undefined) {
      throw new PolicyError('missing_entrypoint', `policy bundle ${digest.slice(0, 12)} lacks ${regoPath}`);
    }
    ids.set(name, id);
  }
  const evaluate = <E extends EntrypointName>(entrypoint: E, inputJson: string) => {
    const id = ids.get(entrypoint);
    if (id === undefined) throw new PolicyError('missing_entrypoint', `this bundle was not loaded for ${entrypoint}`);
    let resultSet: unknown;
    try {
      // JSON text goes in as bytes, so the SDK does not serialise the input a second time.
      resultSet = policy.evaluate(encoder.encode(inputJson).buffer, id);
    } catch (cause) {
      throw new PolicyError('evaluation_failed', `${entrypoint} failed: ${describe(cause)}`, { cause });
    }
    const first = Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined) : undefined;
    if (first?.result === undefined) throw new PolicyError('undefined_decision', `${entrypoint} gave no decision`);
    return first.result as EntrypointOutput<E>;
  };
  return {
    digest,
    wasm,
    entrypoints,
    evaluate,
  };
}

const encoder = new TextEncoder();

/**
 * Builtins OPA's wasm target leaves to the host and the opa-wasm SDK does not provide. They must
 * be pure (same argument, same answer) so that decisions stay replayable.
 */
const HOST_BUILTINS: Record<string, (...args: unknown[]) => unknown> = {
  'time.parse_rfc3339_ns': (value) => parseRfc3339Ns(value),
};

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Nanoseconds since the epoch, as OPA's `time.parse_rfc3339_ns`; throws on anything else. */
export function parseRfc3339Ns(value: unknown): number {
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  if (!m) throw new Error(`time.parse_rfc3339_ns: not an RFC 3339 time: ${JSON.stringify(value)}`);
  const [, y, mo, d, h, mi, sec, fraction = '', sign, oh = '0', om = '0'] = m;
  const seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)) / 1000;
  const check = new Date(seconds * 1000);
  if (Number.isNaN(seconds) || check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h) || Number(sec) > 59) {
    throw new Error(`time.parse_rfc3339_ns: not a valid time: ${value as string}`);
  }
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om) * 60);
  const ns = BigInt(seconds - offset) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0') || '0');
  return Number(ns);
}

/** The opa-wasm SDK throws strings as well as Errors. */
function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
