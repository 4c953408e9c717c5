import type { AccessTokenClaims } from '../../server/oauth/token-service.js';
import { bearerAccessInput, linkAccessInput } from '../../server/http/access-input.js';
import { registrationInput } from '../../server/oauth/clients/registration.js';
import { tokenAdministrationInput } from '../../server/oauth/token-administration.js';
import { pickPatientInput } from '../../server/smart/patient-pick.js';
import type { ClientMetadata } from '../../server/store/repositories/clients.js';
import type { AccountDocument } from '../../server/store/repositories/accounts.js';
import { PolicyEngine } from '../../server/policy/engine.js';
import { entrypointNames, type BearerApi, type EntrypointName } from '../../server/policy/entrypoints.js';
import { consentCases, smartCases } from './fixtures.js';
import { policySchemas, violations, type EntrypointSchemas } from './policy-schemas.js';

let engine: PolicyEngine;
let schemas: Record<EntrypointName, EntrypointSchemas>;
beforeAll(async () => {
  engine = await PolicyEngine.open();
  schemas = await policySchemas();
});

it('every entrypoint has an input and an output schema, and they compile strictly', () => {
  expect(Object.keys(schemas).sort()).toEqual([...entrypointNames].sort());
});

describe('consent schemas', () => {
  describe.each(consentCases)('$name', ({ input }) => {
    it('is a valid input', () => {
      expect(violations(schemas.consent.input, input)).toEqual([]);
    });

    it('gives a valid output that sorts every requested scope into exactly one of granted, ask, denied', () => {
      const { result } = engine.decide('consent', input);
      expect(violations(schemas.consent.output, result)).toEqual([]);
      const sorted = [...result.granted, ...result.ask, ...result.denied.map((d) => d.scope)].sort();
      expect(sorted).toEqual([...new Set(input.requested_scopes)].sort());
    });
  });

  it.each([
    ['a missing clock', { now: undefined }],
    ['a clock that is not RFC 3339', { now: 'June 1st' }],
    ['a scope with a space', { requested_scopes: ['openid profile'] }],
    ['an unexpected field', { extra: true }],
    ['a grant without a time', { prior_grants: [{ client_id: 'growth-chart', scopes: ['openid'] }] }],
  ])('rejects an input with %s', (_name, change) => {
    expect(schemas.consent.input({ ...consentCases[0]!.input, ...change })).toBe(false);
  });

  it('rejects an output that repeats a scope or gives an unknown reason', () => {
    const output = { granted: [], ask: ['openid', 'openid'], mandatory: [], denied: [] };
    expect(schemas.consent.output(output)).toBe(false);
    expect(schemas.consent.output({ ...output, ask: [], denied: [{ scope: 'x', reason: 'because' }] })).toBe(false);
  });
});

describe('scopes schemas, with the SMART inputs decideConsent builds', () => {
  describe.each(smartCases)('$name', ({ input }) => {
    it('is a valid scopes and consent input, with valid outputs of both', () => {
      expect(violations(schemas.scopes.input, input)).toEqual([]);
      expect(violations(schemas.scopes.output, engine.decide('scopes', input).result)).toEqual([]);
      expect(violations(schemas.consent.input, input)).toEqual([]);
      const { result } = engine.decide('consent', input);
      expect(violations(schemas.consent.output, result)).toEqual([]);
      const sorted = [...result.granted, ...result.ask, ...result.denied.map((d) => d.scope)].sort();
      expect(sorted).toEqual([...new Set(input.requested_scopes)].sort());
    });
  });

  it('gives each malformed or misplaced scope its reason, and the chosen categories', () => {
    const [launch, choice, practitioner] = smartCases.map(({ input }) => engine.decide('consent', input).result);
    expect(launch!.denied).toEqual([
      { scope: 'patient/.rs', reason: 'malformed_scope' },
      { scope: 'patient/Genome.rs', reason: 'malformed_scope' },
      { scope: 'user/Observation.rs', reason: 'not_allowed_for_client' },
    ]);
    expect(launch!.ask).toEqual(['fhirUser', 'launch/patient', 'offline_access', 'openid', 'patient/Condition.read', 'patient/Observation.rs']);
    expect(choice!.chosen).toEqual(['openid', 'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory']);
    expect(practitioner!.denied).toEqual([
      { scope: 'patient/Observation.rs', reason: 'patient_not_in_compartment' },
      { scope: 'system/Patient.rs', reason: 'not_allowed_for_client' },
    ]);
  });

  it('rejects a parsed scope with permissions out of order and a fhirUser that is not a Patient or Practitioner', () => {
    const input = smartCases[0]!.input;
    expect(schemas.scopes.input({ ...input, smart: { ...input.smart, requested: [{ ...input.smart.requested[0]!, permissions: 'sr' }] } })).toBe(false);
    expect(schemas.scopes.input({ ...input, user: { sub: 'x', fhirUser: 'Device/1' } })).toBe(false);
    expect(schemas.scopes.input({ ...input, smart: undefined })).toBe(false);
  });
});

describe('access schemas, with the inputs the bearer gate and the link rule build', () => {
  const issuer = 'https://assent.example';
  const now = new Date('2026-12-02T06:00:00.123Z');
  const claims = (extra: Partial<AccessTokenClaims>): AccessTokenClaims => ({ iss: issuer, jti: 'jti-1', client_id: 'rs-1', scope: 'uma_protection', exp: 1796191500, ...extra });
  const tokens: [string, AccessTokenClaims][] = [
    ['a PAT granted by the owner', claims({ sub: 'patient-1', aud: issuer })],
    ['a client acting for itself, with several audiences', claims({ aud: [issuer, 'https://fhir.example.org'] })],
    ['a token without a scope or an audience', claims({ scope: '', sub: 'patient-1' })],
  ];
  const apis: BearerApi[] = ['uma_protection', 'sharing_rules', 'uma_authorization', 'userinfo', 'smart_launch'];

  describe.each(tokens)('%s', (_name, token) => {
    it.each(apis)('for %s: a valid input, and a valid output', (api) => {
      const input = bearerAccessInput(api, token, issuer, now);
      expect(violations(schemas.access.input, input)).toEqual([]);
      expect(violations(schemas.access.output, engine.decide('access', input).result)).toEqual([]);
    });
  });

  it.each([
    ['fresh', 1796191100],
    ['stale', 1796190000],
  ])('a link request with a %s sign-in: a valid input, and a valid output', (_name, authTime) => {
    const input = linkAccessInput({ accountId: 'patient-1', authTime }, now);
    expect(violations(schemas.access.input, input)).toEqual([]);
    const { result } = engine.decide('access', input);
    expect(violations(schemas.access.output, result)).toEqual([]);
    expect(result.allow).toBe(authTime === 1796191100);
  });

  const account = (fields: Partial<AccountDocument>): AccountDocument => ({ _id: 'acct-1', email: 'a@example.org', emailVerified: true, name: 'A', createdAt: now, ...fields });

  it.each([
    ['a patient picking itself', account({ fhirUser: 'Patient/alice' }), 'alice', true],
    ['a practitioner picking a listed patient', account({ fhirUser: 'Practitioner/smith', patients: ['alice', 'bob'] }), 'bob', true],
    ['a practitioner picking another patient', account({ fhirUser: 'Practitioner/smith', patients: ['alice'] }), 'bob', false],
    ['an account without a FHIR identity', account({}), 'alice', false],
  ])('a patient pick by %s: a valid input, and a valid output', (_name, who, patient, allowed) => {
    const input = pickPatientInput(who, patient, now);
    expect(violations(schemas.access.input, input)).toEqual([]);
    const { result } = engine.decide('access', input);
    expect(violations(schemas.access.output, result)).toEqual([]);
    expect(result.allow).toBe(allowed);
  });

  it.each([
    ['an admin', account({ roles: ['admin'] }), true],
    ['an account with other roles', account({ roles: ['auditor'] }), false],
    ['an account without roles', account({}), false],
  ])('token administration by %s: a valid input, and a valid output', (_name, who, allowed) => {
    const input = tokenAdministrationInput(who, now);
    expect(violations(schemas.access.input, input)).toEqual([]);
    const { result } = engine.decide('access', input);
    expect(violations(schemas.access.output, result)).toEqual([]);
    expect(result.allow).toBe(allowed);
  });

  it('rejects a token administration input without roles', () => {
    expect(schemas.access.input({ api: 'token_administration', now: now.toISOString(), account: { sub: 'acct-1' } })).toBe(false);
  });

  it.each([
    ['an unknown API', { api: 'admin' }],
    ['a token without a client', { token: { scope: 'openid', aud: [] } }],
    ['an audience that is a string', { token: { scope: 'openid', client_id: 'app', aud: issuer } }],
    ['a session mixed in', { session: { sub: 'patient-1', auth_time: 1 } }],
    ['a clock that is not RFC 3339', { now: 'now' }],
  ])('rejects an input with %s', (_name, change) => {
    expect(schemas.access.input({ ...bearerAccessInput('userinfo', claims({}), issuer, now), ...change })).toBe(false);
  });

  it('rejects a link input whose sign-in time is not whole seconds, and outputs that mix the shapes', () => {
    expect(schemas.access.input({ api: 'link_identity', now: now.toISOString(), session: { sub: 'p', auth_time: 1.5 } })).toBe(false);
    expect(schemas.access.output({ allow: true, reason: 'ok', required_scope: 'openid' })).toBe(false);
    expect(schemas.access.output({ allow: false, error: 'insufficient_scope', reason: 'no' })).toBe(false);
    expect(schemas.access.output({ allow: false, reason: 'no' })).toBe(false);
  });
});

describe('registration schemas, with the input the registration service builds', () => {
  const metadata = (extra: Partial<ClientMetadata>): ClientMetadata => ({ redirect_uris: [], grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic', scope: '', ...extra });
  it.each([
    ['an open registration without scope', 'registration', metadata({}), true],
    ['an open registration with user scopes', 'registration', metadata({ scope: 'openid openid uma_protection' }), true],
    ['an open registration asking for smart/launch', 'registration', metadata({ scope: 'smart/launch' }), false],
    ['an open registration with fhir_base_urls', 'registration', metadata({ fhir_base_urls: ['https://fhir.example.org'] }), false],
    ['an operator client with both', 'operator', metadata({ scope: 'smart/launch access_evaluation system/*.rs', fhir_base_urls: ['https://fhir.example.org'] }), true],
  ] as const)('%s: a valid input, and a valid output', (_name, source, client, allowed) => {
    const input = registrationInput(source, client);
    expect(violations(schemas.registration.input, input)).toEqual([]);
    const { result } = engine.decide('registration', input);
    expect(violations(schemas.registration.output, result)).toEqual([]);
    expect(result.allow).toBe(allowed);
    expect(result.refused.length === 0).toBe(allowed);
  });

  it.each([
    ['an unknown source', { source: 'seed' }],
    ['a scope with a space', { scopes: ['openid profile'] }],
    ['a repeated member', { members: ['scope', 'scope'] }],
    ['an unexpected field', { extra: true }],
  ])('rejects an input with %s', (_name, change) => {
    expect(schemas.registration.input({ ...registrationInput('registration', metadata({})), ...change })).toBe(false);
  });

  it('rejects an output with an unknown kind or reason', () => {
    expect(schemas.registration.output({ allow: false, refused: [{ kind: 'grant', name: 'x', reason: 'operator_only' }] })).toBe(false);
    expect(schemas.registration.output({ allow: false, refused: [{ kind: 'scope', name: 'x', reason: 'because' }] })).toBe(false);
  });
});

describe('introspection schemas', () => {
  const token = { client_id: 'smart-app', aud: ['https://fhir.example.org/r4'], token_type: 'Bearer' as const };
  it.each([
    ['the token’s own client', { client_id: 'smart-app', fhir_base_urls: [] }, true],
    ['a FHIR server of the token’s base', { client_id: 'fhir-server', fhir_base_urls: ['https://fhir.example.org/r4'] }, true],
    ['a FHIR server of another base', { client_id: 'fhir-server', fhir_base_urls: ['https://fhir.example.org/r5'] }, false],
  ])('a caller that is %s: a valid input, and a valid output', (_name, caller, visible) => {
    const input = { caller, token };
    expect(violations(schemas.introspection.input, input)).toEqual([]);
    const { result } = engine.decide('introspection', input);
    expect(violations(schemas.introspection.output, result)).toEqual([]);
    expect(result.visible).toBe(visible);
  });

  it('rejects a caller without its FHIR bases, or with a base that is not a string', () => {
    expect(schemas.introspection.input({ caller: { client_id: 'fhir-server' }, token })).toBe(false);
    expect(schemas.introspection.input({ caller: { client_id: 'fhir-server', fhir_base_urls: [1] }, token })).toBe(false);
  });
});
