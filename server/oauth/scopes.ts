import { describeScope } from '../smart/scope-sentences.js';

/** SMART's launch and identity scopes (SMART App Launch 2.2), worded by describeScope. */
const SMART_SCOPES = ['fhirUser', 'launch', 'launch/patient', 'launch/encounter', 'online_access'];

/**
 * Scopes Assent understands, with the sentence the consent page shows for each. SMART resource
 * scopes (`patient/Observation.rs`, …) are not listed: they are parsed (server/smart/scopes.ts).
 */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirm who you are (sign you in)',
  profile: 'See your name',
  email: 'See your email address and whether it is verified',
  offline_access: 'Keep access until you revoke it, even when you are not using the app',
  uma_protection: 'Register your health records and ask for access decisions on them (resource server)',
  uma_authorization: 'Ask for access to health records shared with you (requesting party client)',
  sharing_rules: 'Read and change who you share your health records with',
  'smart/launch': 'Start SMART apps for a patient from an EHR (create launch contexts; operator-configured EHRs only)',
  access_evaluation: 'Ask for access decisions on patients\' records (policy enforcement points; operator-configured only)',
  ...Object.fromEntries(SMART_SCOPES.map((scope) => [scope, describeScope(scope)])),
};

export const KNOWN_SCOPES = Object.keys(SCOPE_DESCRIPTIONS);

/** Scopes a client may ask for when its registration names none. */
export const DEFAULT_CLIENT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/** The consent page's and the connected apps' sentence for a scope: Assent's own wording, else the SMART scope's. */
export function scopeSentence(scope: string): string {
  return SCOPE_DESCRIPTIONS[scope] ?? describeScope(scope);
}
