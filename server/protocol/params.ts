import { invalidRequest } from './errors.js';

/**
 * OAuth parameters are single-valued strings (RFC 6749 §3.1: "Request and response parameters
 * MUST NOT be included more than once"). Reads the named parameters from a parsed query or form,
 * refusing repeated or structured values with invalid_request; absent or empty ones are left out.
 */
export function readParams<K extends string>(source: unknown, names: readonly K[]): Partial<Record<K, string>> {
  const record = (source && typeof source === 'object' ? source : {}) as Record<string, unknown>;
  const out: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = record[name];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string') throw invalidRequest(`parameter ${name} must be given once, as a string`);
    if (value.length > MAX_PARAMETER_LENGTH) throw invalidRequest(`parameter ${name} is too long`);
    out[name] = value;
  }
  return out;
}

export function requireParam<K extends string>(params: Partial<Record<K, string>>, name: K): string {
  const value = params[name];
  if (value === undefined) throw invalidRequest(`missing parameter ${name}`);
  return value;
}

/** Space-delimited list (scope, response_type): deduplicated, in first-seen order. */
export function splitList(value: string | undefined): string[] {
  return value ? [...new Set(value.split(' ').filter(Boolean))] : [];
}

const MAX_PARAMETER_LENGTH = 8192;
