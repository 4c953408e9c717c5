import { FHIR_R4_RESOURCE_TYPES } from './fhir-resource-types.js';

/** A SMART resource scope (SMART App Launch 2.2 §"Scopes for requesting clinical data"), parsed once. */
export interface SmartScope {
  /** As requested: a v1 scope is granted back in its v1 form. */
  raw: string;
  context: 'patient' | 'user' | 'system';
  /** A FHIR R4 resource type, or `*`. */
  resourceType: string;
  /** v2 letters in order, a non-empty subset of `cruds` (v1 `read` → `rs`, `write` → `cud`, `*` → `cruds`). */
  permissions: string;
  version: 'v1' | 'v2';
  /** The v2 query constraints (`?category=…`), by parameter name. */
  params: Record<string, string[]>;
}

/** SMART scopes that are not resource scopes: launch context, identity and access duration. */
export const SMART_NAMED_SCOPES: ReadonlySet<string> = new Set(['launch', 'launch/patient', 'launch/encounter', 'openid', 'fhirUser', 'offline_access', 'online_access']);

const RESOURCE_SCOPE = /^(patient|user|system)\/([A-Za-z]+|\*)\.([^?]+)(?:\?(.*))?$/;
const V1_PERMISSIONS: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };
const V2_PERMISSIONS = /^(?=.)c?r?u?d?s?$/;

/** The structure of a SMART resource scope, or undefined when `raw` is not a well-formed one (never throws). */
export function parseSmartScope(raw: string): SmartScope | undefined {
  const match = RESOURCE_SCOPE.exec(raw);
  if (!match) return undefined;
  const [, context, resourceType, access, query] = match as unknown as [string, SmartScope['context'], string, string, string | undefined];
  if (resourceType !== '*' && !FHIR_R4_RESOURCE_TYPES.has(resourceType)) return undefined;
  const v1 = V1_PERMISSIONS[access];
  if (v1 !== undefined) return query === undefined ? { raw, context, resourceType, permissions: v1, version: 'v1', params: {} } : undefined;
  if (!V2_PERMISSIONS.test(access)) return undefined;
  const params = query === undefined ? {} : parseParams(query);
  return params ? { raw, context, resourceType, permissions: access, version: 'v2', params } : undefined;
}

/** A SMART scope of either kind: a well-formed resource scope or one of the named ones. */
export function isSmartScope(raw: string): boolean {
  return SMART_NAMED_SCOPES.has(raw) || parseSmartScope(raw) !== undefined;
}

/** The parsed resource scopes among `scopes`; the others (malformed, or not SMART) are left out. */
export function smartResourceScopes(scopes: readonly string[]): SmartScope[] {
  return scopes.map(parseSmartScope).filter((scope): scope is SmartScope => scope !== undefined);
}

/** `name=value&…`, each name and value non-empty; undefined when any pair is not. */
function parseParams(query: string): Record<string, string[]> | undefined {
  const params = new Map<string, string[]>();
  for (const pair of query.split('&')) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) return undefined;
    const name = pair.slice(0, at);
    params.set(name, [...(params.get(name) ?? []), pair.slice(at + 1)]);
  }
  return Object.fromEntries(params);
}
