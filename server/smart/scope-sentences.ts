/**
 * Minimal plain-language sentences for the scopes an app holds (part SCOPES owns the full
 * version: same name and signature). Unknown scopes are shown as they are.
 */
const FIXED: Record<string, string> = {
  openid: 'confirm who you are',
  profile: 'see your name',
  email: 'see your email address',
  fhirUser: 'know which patient or practitioner record is yours',
  offline_access: 'keep access while you are away',
  online_access: 'keep access while you are signed in',
  launch: 'open with the record you are looking at',
  'launch/patient': 'be told which patient is chosen',
  'launch/encounter': 'be told which encounter is chosen',
};

const WHOSE: Record<string, string> = { patient: 'the patient’s', user: 'your', system: 'any patient’s' };

const VERBS: Record<string, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

/** SMART v1 (`read`, `write`, `*`) and v2 (letters of `cruds`) resource scopes: `context/Type.permissions`. */
const RESOURCE_SCOPE = /^(patient|user|system)\/([A-Za-z]+|\*)\.(read|write|\*|c?r?u?d?s?)(\?.*)?$/;

const V1: Record<string, string> = { read: 'rs', write: 'cud', '*': 'cruds' };

export function describeScope(raw: string): string {
  const fixed = FIXED[raw];
  if (fixed) return fixed;
  const match = RESOURCE_SCOPE.exec(raw);
  if (!match || match[3] === '') return raw;
  const [, context, type, permissions] = match as unknown as [string, string, string, string];
  const verbs = [...(V1[permissions] ?? permissions)].map((letter) => VERBS[letter]!);
  const what = type === '*' ? 'records of every kind' : `${type} records`;
  const list = verbs.length > 1 ? `${verbs.slice(0, -1).join(', ')} and ${verbs.at(-1)}` : verbs[0]!;
  return `${list} ${WHOSE[context]} ${what}${match[4] ? ' (only some of them)' : ''}`;
}
