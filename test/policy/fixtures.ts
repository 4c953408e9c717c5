import { smartFacts } from '../../server/oauth/consent.js';
import type { ConsentInput, ConsentOutput, SmartFacts } from '../../server/policy/entrypoints.js';

export const knownScopes = [
  'openid',
  'profile',
  'email',
  'fhirUser',
  'launch',
  'launch/patient',
  'offline_access',
  'online_access',
  'patient/Patient.rs',
  'patient/Observation.rs',
  'patient/MedicationRequest.rs',
  'patient/Condition.rs',
  'patient/AllergyIntolerance.rs',
  'patient/*.read',
  'user/*.cruds',
  'system/*.rs',
];

const smartApp = {
  client_id: 'growth-chart',
  allowed_scopes: [
    'openid',
    'fhirUser',
    'launch/patient',
    'offline_access',
    'patient/Patient.rs',
    'patient/Observation.rs',
    'patient/MedicationRequest.rs',
  ],
};

const base: ConsentInput = {
  now: '2025-06-01T09:30:00Z',
  client: smartApp,
  user: { sub: 'patient-7f3a' },
  requested_scopes: [],
  known_scopes: knownScopes,
  prior_grants: [],
};

/** Realistic consent inputs, each with the decision the policy must give. */
export const consentCases: { name: string; input: ConsentInput; expected: ConsentOutput }[] = [
  {
    name: 'first launch of a SMART app',
    input: {
      ...base,
      requested_scopes: ['openid', 'fhirUser', 'launch/patient', 'patient/Observation.rs', 'patient/Patient.rs'],
    },
    expected: decisionOf({
      ask: ['fhirUser', 'launch/patient', 'openid', 'patient/Observation.rs', 'patient/Patient.rs'],
      mandatory: ['openid'],
    }),
  },
  {
    name: 'returning app asking for one more scope',
    input: {
      ...base,
      requested_scopes: ['openid', 'fhirUser', 'patient/Observation.rs', 'patient/MedicationRequest.rs'],
      prior_grants: [
        { client_id: 'growth-chart', scopes: ['openid', 'fhirUser', 'patient/Observation.rs'], granted_at: '2025-02-11T16:04:05Z' },
        { client_id: 'pharmacy-portal', scopes: ['patient/MedicationRequest.rs'], granted_at: '2025-03-01T08:00:00+01:00' },
      ],
    },
    expected: decisionOf({
      granted: ['fhirUser', 'openid', 'patient/Observation.rs'],
      ask: ['patient/MedicationRequest.rs'],
      mandatory: ['openid'],
    }),
  },
  {
    name: 'app overreaching and inventing scopes',
    input: {
      ...base,
      requested_scopes: ['openid', 'patient/Condition.rs', 'user/*.cruds', 'patient/Genome.rs', 'openid'],
    },
    expected: decisionOf({
      ask: ['openid'],
      mandatory: ['openid'],
      denied: [
        { scope: 'patient/Condition.rs', reason: 'not_allowed_for_client' },
        { scope: 'patient/Genome.rs', reason: 'unknown_scope' },
        { scope: 'user/*.cruds', reason: 'not_allowed_for_client' },
      ],
    }),
  },
  {
    name: 'plain OAuth client without openid, everything granted before',
    input: {
      ...base,
      client: { client_id: 'lab-results-sync', allowed_scopes: ['offline_access', 'patient/Observation.rs'] },
      requested_scopes: ['offline_access', 'patient/Observation.rs'],
      prior_grants: [
        { client_id: 'lab-results-sync', scopes: ['offline_access'], granted_at: '2024-12-24T10:00:00.123Z' },
        { client_id: 'lab-results-sync', scopes: ['patient/Observation.rs'], granted_at: '2025-01-02T10:00:00Z' },
      ],
    },
    expected: decisionOf({ granted: ['offline_access', 'patient/Observation.rs'] }),
  },
  {
    name: 'nothing requested',
    input: base,
    expected: decisionOf({}),
  },
];

function decisionOf(parts: Partial<ConsentOutput>): ConsentOutput {
  return { granted: [], ask: [], mandatory: [], denied: [], categories: [], ...parts };
}

/** SMART inputs as decideConsent builds them (parsed scopes, the account's FHIR identity, the patient in context), for the consent and scopes entrypoints. */
export const smartCases: { name: string; input: ConsentInput & { smart: SmartFacts } }[] = [
  {
    name: 'a patient launching an app on her own record, with a malformed and an unknown-type scope',
    input: {
      ...base,
      client: { client_id: 'growth-chart', allowed_scopes: ['openid', 'fhirUser', 'launch/patient', 'patient/*.rs', 'offline_access'] },
      user: { sub: 'patient-7f3a', fhirUser: 'Patient/alice', patients: [] },
      requested_scopes: ['openid', 'fhirUser', 'launch/patient', 'patient/Observation.rs', 'patient/Condition.read', 'patient/.rs', 'patient/Genome.rs', 'user/Observation.rs', 'offline_access'],
      smart: smartFacts(['patient/*.rs'], ['patient/Observation.rs', 'patient/Condition.read', 'patient/.rs', 'patient/Genome.rs', 'user/Observation.rs'], { patient: 'alice' }),
    },
  },
  {
    name: 'the same patient choosing lab results only and no offline access',
    input: {
      ...base,
      client: { client_id: 'growth-chart', allowed_scopes: ['openid', 'patient/*.rs', 'offline_access'] },
      user: { sub: 'patient-7f3a', fhirUser: 'Patient/alice', patients: [] },
      requested_scopes: ['openid', 'patient/Observation.rs', 'offline_access'],
      smart: smartFacts(['patient/*.rs'], ['patient/Observation.rs'], { patient: 'alice' }),
      choice: { scopes: ['patient/Observation.rs'], categories: [{ scope: 'patient/Observation.rs', codes: ['laboratory'] }] },
    },
  },
  {
    name: 'a practitioner with a patient of another compartment in context',
    input: {
      ...base,
      client: { client_id: 'growth-chart', allowed_scopes: ['openid', 'patient/*.rs', 'user/*.rs'] },
      user: { sub: 'dr-smith', fhirUser: 'Practitioner/smith', patients: ['alice', 'bob'] },
      requested_scopes: ['openid', 'patient/Observation.rs', 'user/Patient.rs', 'system/Patient.rs'],
      smart: smartFacts(['patient/*.rs', 'user/*.rs'], ['patient/Observation.rs', 'user/Patient.rs', 'system/Patient.rs'], { patient: 'carol' }),
    },
  },
];
