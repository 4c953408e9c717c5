/** Scopes Assent understands, with the sentence the consent page shows for each. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirm who you are (sign you in)',
  profile: 'See your name',
  email: 'See your email address and whether it is verified',
  offline_access: 'Keep access while you are away (refresh tokens)',
  uma_protection: 'Register your health records and ask for access decisions on them (resource server)',
  uma_authorization: 'Ask for access to health records shared with you (requesting party client)',
  sharing_rules: 'Read and change who you share your health records with',
  'smart/launch': 'Start SMART apps for a patient from an EHR (create launch contexts; operator-configured EHRs only)',
  access_evaluation: 'Ask for access decisions on patients\' records (policy enforcement points; operator-configured only)',
};

export const KNOWN_SCOPES = Object.keys(SCOPE_DESCRIPTIONS);

/** Scopes a client may ask for when its registration names none. */
export const DEFAULT_CLIENT_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
