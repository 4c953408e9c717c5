import { parseSmartScope, type SmartScope } from './scopes.js';

/** What the named SMART scopes let an app do, in the patient's words. */
const NAMED: Record<string, string> = {
  launch: 'Open with the record you are looking at in your health system',
  'launch/patient': 'Know which patient record it is for',
  'launch/encounter': 'Know which visit it is for',
  fhirUser: 'Know who you are in your health record (your patient or practitioner record)',
  online_access: 'Keep access while you are using it',
};

/** Plain names of the resource types apps ask for most; the others are named by their FHIR type. */
const TYPES: Record<string, string> = {
  '*': 'health records',
  Observation: 'observations',
  Condition: 'conditions',
  MedicationStatement: 'medications',
  MedicationRequest: 'medication prescriptions',
  AllergyIntolerance: 'allergies',
  Immunization: 'immunizations',
  Procedure: 'procedures',
  Patient: 'patient details',
  Encounter: 'visits',
  DiagnosticReport: 'test reports',
  DocumentReference: 'documents',
  CarePlan: 'care plans',
  Goal: 'health goals',
  Practitioner: 'care providers',
};

/** Observation categories (http://terminology.hl7.org/CodeSystem/observation-category) in plain words. */
export const OBSERVATION_CATEGORIES: Record<string, string> = {
  laboratory: 'lab results',
  'vital-signs': 'vital signs',
  'social-history': 'social history',
  imaging: 'imaging results',
  survey: 'survey answers',
  exam: 'exam findings',
  procedure: 'procedure results',
  therapy: 'therapy notes',
  activity: 'activity records',
};

/** The sentence the consent page shows for a scope ("read your lab results"); the scope itself when unknown. */
export function describeScope(raw: string): string {
  const named = NAMED[raw];
  if (named !== undefined) return named;
  const scope = parseSmartScope(raw);
  if (!scope) return raw;
  const verbs = actions(scope.permissions);
  const subject = what(scope);
  if (scope.context === 'patient') return capitalise(`${verbs} your ${subject}`);
  return capitalise(`${verbs} ${subject} ${scope.context === 'user' ? 'of the patients you care for' : 'of any patient'}`);
}

function actions(permissions: string): string {
  const words: string[] = [];
  if (permissions.includes('r') || permissions.includes('s')) words.push('read');
  if (permissions.includes('c')) words.push('add to');
  if (permissions.includes('u')) words.push('change');
  if (permissions.includes('d')) words.push('delete');
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : (words[0] ?? '');
}

function what(scope: SmartScope): string {
  const categories = (scope.params.category ?? []).map((value) => OBSERVATION_CATEGORIES[value.split('|').at(-1) ?? ''] ?? value);
  if (scope.resourceType === 'Observation' && categories.length > 0) return categories.join(', ');
  return TYPES[scope.resourceType] ?? `${scope.resourceType} records`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
