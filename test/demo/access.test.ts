import { Access } from '../../demo/fhir/access.js';
import type { FhirResource } from '../../demo/fhir/resources.js';
import { resourceScopes } from '../../demo/fhir/scopes.js';

const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
const observation = (patient: string, category: string): FhirResource => ({
  resourceType: 'Observation',
  id: `${patient}-${category}`,
  subject: { reference: `Patient/${patient}` },
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: category }] }],
});
const condition = (patient: string): FhirResource => ({ resourceType: 'Condition', id: `${patient}-c`, subject: { reference: `Patient/${patient}` } });

/** The demo FHIR server's enforcement of what Assent's introspection said: scopes × compartments, no decision of its own beyond that. */
describe('demo FHIR server: access from an introspection answer', () => {
  it('reads v1 and v2 scopes, with their category constraints; other scopes are not about resources', () => {
    expect(resourceScopes('openid fhirUser launch/patient patient/Observation.read user/*.* patient/Condition.rs patient/Observation.rs?category=laboratory patient/.rs patient/X.xyz')).toEqual([
      { context: 'patient', resourceType: 'Observation', permissions: 'rs', categories: [] },
      { context: 'user', resourceType: '*', permissions: 'cruds', categories: [] },
      { context: 'patient', resourceType: 'Condition', permissions: 'rs', categories: [] },
      { context: 'patient', resourceType: 'Observation', permissions: 'rs', categories: ['laboratory'] },
    ]);
  });

  it('patient/ scopes reach only the patient in context', () => {
    const access = new Access({ active: true, scope: 'patient/*.rs', patient: 'alice' });
    expect(access.allows(observation('alice', 'laboratory'), 'r')).toBe(true);
    expect(access.allows(observation('bob', 'laboratory'), 'r')).toBe(false);
    expect(access.defaultPatient()).toBe('alice');
  });

  it('a patient/ scope without a patient in context reaches nobody', () => {
    expect(new Access({ active: true, scope: 'patient/*.rs' }).allows(condition('alice'), 's')).toBe(false);
  });

  it('user/ scopes of a patient reach their own compartment (fhirUser, absolute or relative)', () => {
    const absolute = new Access({ active: true, scope: 'user/Condition.read', fhirUser: 'http://localhost:4100/fhir/Patient/bob' });
    expect(absolute.allows(condition('bob'), 'r')).toBe(true);
    expect(absolute.allows(condition('alice'), 'r')).toBe(false);
    expect(new Access({ active: true, scope: 'user/Condition.read', fhirUser: 'Patient/alice' }).allows(condition('alice'), 's')).toBe(true);
  });

  it('category-constrained scopes show only that category, by code or system|code', () => {
    for (const category of ['laboratory', LAB]) {
      const access = new Access({ active: true, scope: `patient/Observation.rs?category=${encodeURIComponent(category)}`, patient: 'alice' });
      expect(access.allows(observation('alice', 'laboratory'), 's')).toBe(true);
      expect(access.allows(observation('alice', 'vital-signs'), 's')).toBe(false);
    }
  });

  it('a type, or an interaction, that no scope grants is insufficient_scope', () => {
    const access = new Access({ active: true, scope: 'patient/Observation.r', patient: 'alice' });
    expect(access.allowsType('Observation', 'r')).toEqual({ allowed: true });
    expect(access.allowsType('Observation', 's')).toEqual({ allowed: false, error: 'insufficient_scope', scope: 'patient/Observation.s' });
    expect(access.allowsType('Condition', 'r')).toMatchObject({ allowed: false, error: 'insufficient_scope' });
  });

  it('system/ scopes reach every compartment', () => {
    expect(new Access({ active: true, scope: 'system/Condition.rs' }).allows(condition('bob'), 's')).toBe(true);
  });
});
