import { categoriesOf, type FhirResource } from './resources.js';

/** A SMART resource scope as this FHIR server reads it (SMART App Launch 2.2 §"Scopes"), v1 letters mapped to v2. */
export interface ResourceScope {
  context: 'patient' | 'user' | 'system';
  resourceType: string;
  /** v2 letters, subset of `cruds`. */
  permissions: string;
  /** `category` constraints (`system|code` or `code`); empty: any category. */
  categories: string[];
}

const V1 = { read: 'rs', write: 'cud', '*': 'cruds' } as const;
const SCOPE = /^(patient|user|system)\/([A-Za-z]+|\*)\.(read|write|\*|c?r?u?d?s?)(?:\?(.+))?$/;

/** The resource scopes of a granted `scope` string; other scopes (openid, launch/patient …) are not about resources and are left out. */
export function resourceScopes(scope: string): ResourceScope[] {
  return scope.split(' ').flatMap((raw) => {
    const match = SCOPE.exec(raw);
    if (!match || match[3] === '') return [];
    const [, context, resourceType, letters, query] = match as unknown as [string, ResourceScope['context'], string, string, string | undefined];
    const permissions = letters in V1 ? V1[letters as keyof typeof V1] : letters;
    const categories = new URLSearchParams(query ?? '').getAll('category');
    return [{ context, resourceType, permissions, categories }];
  });
}

/** The scopes that allow the interaction (`r` read, `s` search) on the resource type. */
export function scopesFor(scopes: ResourceScope[], resourceType: string, interaction: 'r' | 's'): ResourceScope[] {
  return scopes.filter((s) => (s.resourceType === '*' || s.resourceType === resourceType) && s.permissions.includes(interaction));
}

/** Whether the resource fits one of the scopes' category constraints (a scope without any takes every resource). */
export function withinCategories(scopes: ResourceScope[], resource: FhirResource): boolean {
  const codings = categoriesOf(resource);
  return scopes.some(
    (s) => s.categories.length === 0 || s.categories.some((wanted) => codings.some((c) => wanted === c.code || wanted === `${c.system}|${c.code}`)),
  );
}
