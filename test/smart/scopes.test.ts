import fc from 'fast-check';
import { describeScope } from '../../server/smart/scope-sentences.js';
import { isSmartScope, parseSmartScope, smartResourceScopes } from '../../server/smart/scopes.js';

const LAB = 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

describe('parseSmartScope', () => {
  it.each([
    ['patient/Observation.rs', { context: 'patient', resourceType: 'Observation', permissions: 'rs', version: 'v2', params: {} }],
    ['user/*.cruds', { context: 'user', resourceType: '*', permissions: 'cruds', version: 'v2', params: {} }],
    ['system/Patient.r', { context: 'system', resourceType: 'Patient', permissions: 'r', version: 'v2', params: {} }],
    ['patient/Condition.cud', { context: 'patient', resourceType: 'Condition', permissions: 'cud', version: 'v2', params: {} }],
    [LAB, { context: 'patient', resourceType: 'Observation', permissions: 'rs', version: 'v2', params: { category: ['http://terminology.hl7.org/CodeSystem/observation-category|laboratory'] } }],
    ['patient/Observation.rs?category=a&category=b&code=c', { permissions: 'rs', params: { category: ['a', 'b'], code: ['c'] } }],
  ])('parses v2 %s', (raw, expected) => {
    expect(parseSmartScope(raw)).toMatchObject({ raw, ...expected });
  });

  it.each([
    ['patient/Observation.read', 'rs'],
    ['user/*.write', 'cud'],
    ['system/*.*', 'cruds'],
  ])('maps v1 %s to the v2 permissions %s and keeps the raw form', (raw, permissions) => {
    expect(parseSmartScope(raw)).toMatchObject({ raw, permissions, version: 'v1', params: {} });
  });

  it.each([
    'patient/.rs',
    'patient/Observation.xyz',
    'patient/Observation.sr',
    'patient/Observation.rr',
    'patient/Observation.',
    'patient/Genome.rs',
    'patient/observation.rs',
    'practitioner/Observation.rs',
    'patient/Observation.read?category=x',
    'patient/Observation.rs?category=',
    'patient/Observation.rs?=x',
    'patient/Observation.rs?',
    'patient/Observation',
    'openid',
    'launch/patient',
  ])('refuses %s', (raw) => {
    expect(parseSmartScope(raw)).toBeUndefined();
  });

  it('never throws, and whatever it parses is consistent with its raw form', () => {
    const piece = fc.constantFrom('patient', 'user', 'system', '/', '.', '*', 'Observation', 'rs', 'cruds', 'read', '?', '&', '=', 'category', '|', '__proto__', 'constructor', 'x');
    const scopeLike = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(scopeLike, fc.string(), fc.string({ unit: 'binary' })), (raw) => {
        const parsed = parseSmartScope(raw);
        if (parsed) {
          expect(raw.startsWith(`${parsed.context}/`)).toBe(true);
          expect(parsed.permissions).toMatch(/^c?r?u?d?s?$/);
          expect(parsed.permissions.length).toBeGreaterThan(0);
        }
        expect(isSmartScope(raw)).toBe(parsed !== undefined || ['launch', 'launch/patient', 'launch/encounter', 'openid', 'fhirUser', 'offline_access', 'online_access'].includes(raw));
      }),
      { numRuns: 2000 },
    );
  });

  it('knows the named SMART scopes', () => {
    for (const raw of ['launch', 'launch/patient', 'launch/encounter', 'openid', 'fhirUser', 'offline_access', 'online_access']) expect(isSmartScope(raw)).toBe(true);
    expect(isSmartScope('profile')).toBe(false);
  });

  it('keeps only the well-formed resource scopes of a list', () => {
    expect(smartResourceScopes(['openid', 'patient/.rs', 'patient/Observation.rs']).map((s) => s.raw)).toEqual(['patient/Observation.rs']);
  });
});

describe('describeScope', () => {
  it.each([
    ['patient/Observation.rs', 'Read your observations'],
    [LAB, 'Read your lab results'],
    ['patient/MedicationStatement.c', 'Add to your medications'],
    ['patient/Condition.cruds', 'Read, add to, change and delete your conditions'],
    ['patient/*.read', 'Read your health records'],
    ['user/Observation.rs', 'Read observations of the patients you care for'],
    ['system/Observation.rs', 'Read observations of any patient'],
    ['patient/Observation.rs?category=x|vital-signs&category=x|laboratory', 'Read your vital signs, lab results'],
    ['patient/Specimen.rs', 'Read your Specimen records'],
    ['launch/patient', 'Know which patient record it is for'],
    ['patient/.rs', 'patient/.rs'],
  ])('%s → %s', (raw, sentence) => {
    expect(describeScope(raw)).toBe(sentence);
  });
});
