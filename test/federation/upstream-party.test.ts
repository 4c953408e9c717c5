import type { UpstreamProviderConfig } from '../../server/config/config.js';
import { partyFromUpstreamClaims } from '../../server/federation/upstream-party.js';

/** How an upstream provider's verified claims become the requesting party the claims policy sees. */
const oidc: UpstreamProviderConfig = { id: 'idp', type: 'oidc', issuer: 'https://idp.example.org', clientId: 'assent', displayName: 'IdP', claimMapping: { npi: 'https://example.org/npi' } };
const github: UpstreamProviderConfig = {
  id: 'gh',
  type: 'oauth2',
  clientId: 'assent',
  displayName: 'GitHub-style',
  authorizationEndpoint: 'https://gh.example/login/oauth/authorize',
  tokenEndpoint: 'https://gh.example/login/oauth/access_token',
  userinfoEndpoint: 'https://api.gh.example/user',
  subjectClaim: 'id',
};

describe('partyFromUpstreamClaims', () => {
  test('an OpenID provider: sub, email as given, verified only for boolean true, mapped extras', () => {
    expect(partyFromUpstreamClaims('https://idp.example.org', oidc, { sub: 'u-1', email: ' Dr@Clinic.example ', email_verified: true, name: 'Dr', 'https://example.org/npi': 1234567893 })).toEqual({
      iss: 'https://idp.example.org',
      sub: 'u-1',
      email: 'Dr@Clinic.example',
      email_verified: true,
      name: 'Dr',
      claims: { npi: '1234567893' },
    });
    for (const emailVerified of ['true', 1, undefined, null]) {
      expect(partyFromUpstreamClaims('https://idp.example.org', oidc, { sub: 'u-1', email: 'dr@clinic.example', email_verified: emailVerified }).email_verified).toBe(false);
    }
  });

  test('a plain OAuth 2 user endpoint with a numeric identifier under subjectClaim', () => {
    expect(partyFromUpstreamClaims('urn:assent:upstream:gh', github, { id: 583231, login: 'octocat', email: 'octo@gh.example', sub: 'ignored' })).toEqual({
      iss: 'urn:assent:upstream:gh',
      sub: '583231',
      email: 'octo@gh.example',
      email_verified: false,
    });
  });

  test('no usable identifier is refused', () => {
    for (const claims of [{}, { id: '' }, { id: 1.5 }, { id: { nested: 1 } }]) {
      expect(() => partyFromUpstreamClaims('urn:assent:upstream:gh', github, claims)).toThrow(expect.objectContaining({ code: 'invalid_token' }));
    }
    // subjectClaim is for plain OAuth 2 only: an OpenID provider's subject is always sub.
    expect(() => partyFromUpstreamClaims('https://idp.example.org', { ...oidc, subjectClaim: 'id' }, { id: 'x' })).toThrow(expect.objectContaining({ code: 'invalid_token' }));
  });
});
